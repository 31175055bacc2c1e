/** Argument validation with messages an agent can act on. */
import type { ZodError, ZodIssue } from 'zod';
import { MediagenError } from '../errors.js';
import type { ToolSpec } from './build.js';

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
}

/** What was received, excerpted: a hostile 5 MB value must not come back five times over. */
function received(v: unknown): string {
  try {
    return clip(JSON.stringify(v) ?? String(v));
  } catch {
    return clip(String(v));
  }
}

function issueText(i: ZodIssue): string {
  const where = i.path.length ? clip(i.path.join('.')) : 'arguments';
  switch (i.code) {
    case 'invalid_enum_value':
      return `${where}: must be one of ${i.options.join(', ')} (got ${received(i.received)})`;
    case 'unrecognized_keys':
      return `${where}: unknown argument(s) ${clip(i.keys.join(', '))}`;
    case 'too_big':
      return `${where}: ${i.type === 'string' ? `at most ${String(i.maximum)} characters` : i.type === 'array' ? `at most ${String(i.maximum)} items` : `at most ${String(i.maximum)}`}`;
    case 'too_small':
      return `${where}: ${i.type === 'string' ? `at least ${String(i.minimum)} characters` : i.type === 'array' ? `at least ${String(i.minimum)} items` : `at least ${String(i.minimum)}`}`;
    case 'invalid_type':
      return i.received === 'undefined' ? `${where}: required` : `${where}: expected ${i.expected}, got ${i.received}`;
    default:
      return `${where}: ${clip(i.message)}`;
  }
}

export function formatIssues(err: ZodError): string {
  return err.issues.slice(0, 8).map(issueText).join('; ');
}

/** Validate and apply defaults; BAD_ARGUMENTS on failure (nothing is sent anywhere). */
export function validateArgs(tool: ToolSpec, raw: unknown): Record<string, unknown> {
  const parsed = tool.schema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new MediagenError('BAD_ARGUMENTS', `${tool.name}: ${formatIssues(parsed.error)}`, {
      tool: tool.name,
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: issueText(i) })),
    });
  return parsed.data;
}
