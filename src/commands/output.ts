/** How a tool's answer reaches the terminal: text (or `--json`), and the documented exit code. */
import type { ToolResult } from '../tools/handler.js';
import { EXIT } from './argv.js';
import { paintResult, type Paint } from './colour.js';
import { forPerson, type PersonContext } from './person.js';

/** How a text answer is shown: said for a person, and painted when the stream is a terminal. */
export interface Shown extends PersonContext {
  paint?: Paint;
}

const USAGE_CODES = new Set(['BAD_ARGUMENTS', 'NOT_FOUND', 'NOT_OWNER', 'IDEMPOTENCY_CONFLICT']);
const CONSENT_CODES = new Set(['CONFIRMATION_REQUIRED', 'CONSENT_DECLINED', 'CONSENT_TIMEOUT']);

export function codeOf(r: ToolResult): string | undefined {
  const code = r.structuredContent?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * 0 ok · 1 provider or job failure · 2 bad usage or arguments · 3 consent needed or declined · 4 budget.
 * A job that ended failed or cancelled is a failure of the command that waited for it.
 */
export function exitCodeOf(r: ToolResult, waited = false): number {
  if (r.isError) {
    const code = codeOf(r) ?? 'INTERNAL';
    if (USAGE_CODES.has(code)) return EXIT.usage;
    if (CONSENT_CODES.has(code)) return EXIT.consent;
    if (code === 'BUDGET_EXCEEDED') return EXIT.budget;
    return EXIT.failed; // provider, job and store failures (STORE_UNAVAILABLE) alike
  }
  const status = r.structuredContent?.status;
  if (waited && (status === 'failed' || status === 'cancelled')) return EXIT.failed;
  return EXIT.ok;
}

export function textOf(r: ToolResult): string {
  return r.content
    .map((c) => (c.type === 'text' ? c.text : ''))
    .filter(Boolean)
    .join('\n');
}

/**
 * `--json`: the structured result (with `is_error` on errors), as the agent gets it; otherwise the text,
 * said for a person (`shown`) and coloured on a terminal.
 */
export function render(r: ToolResult, json: boolean, shown?: Shown): string {
  if (!json) {
    if (!shown) return textOf(r) + '\n';
    const text = forPerson(textOf(r), shown);
    return (shown.paint ? paintResult(text, r.isError === true, shown.paint) : text) + '\n';
  }
  const body = r.structuredContent ?? { text: textOf(r) };
  // Inline previews (image / audio blocks) ride along: the structured result names them, the bytes are here.
  const previews = r.content.flatMap((c) =>
    c.type === 'image' || c.type === 'audio' ? [{ type: c.type, mime_type: c.mimeType, data: c.data }] : [],
  );
  const all = previews.length ? { ...body, previews } : body;
  return JSON.stringify(r.isError ? { is_error: true, ...all } : all) + '\n';
}
