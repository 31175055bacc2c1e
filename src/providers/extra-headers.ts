/**
 * Catalogue request headers whose values come from environment variables (per-engine keys such as
 * ph0ny's X-Provider-Key-*): which apply to a call, their values, and the refusal, naming the variable,
 * when a required one is missing. Values are secrets: they are fed to the redactor and never logged.
 */
import type { Catalogue, Operation, RequestHeader } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';

/** Header values by environment variable name, resolved once at start-up. */
export type HeaderValues = Readonly<Record<string, string | undefined>>;

function applies(h: RequestHeader, op: Operation, args: Readonly<Record<string, unknown>>): boolean {
  if (!h.when) return true;
  return h.when.some((w) => op.params.some((p) => p.name === w.param) && w.values.includes(args[w.param] as never));
}

/** What the arguments chose that needs the header, e.g. `provider=heygen`. */
function chosen(h: RequestHeader, args: Readonly<Record<string, unknown>>): string {
  const hit = h.when?.find((w) => w.values.includes(args[w.param] as never));
  return hit ? `${hit.param}=${String(args[hit.param])}` : 'every request';
}

/** The extra headers of one call; throws NOT_CONFIGURED (before any request) when a required one is unset. */
export function extraHeaders(
  cat: Pick<Catalogue, 'provider' | 'headers'>,
  op: Operation,
  args: Readonly<Record<string, unknown>>,
  values: HeaderValues,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of cat.headers ?? []) {
    if (!applies(h, op, args)) continue;
    const v = values[h.env]?.trim();
    if (v) out[h.name.toLowerCase()] = v;
    else if (h.required)
      throw new MediagenError(
        'NOT_CONFIGURED',
        `${cat.provider}_${op.id} with ${chosen(h, args)} needs your own key for that engine: set ${h.env} (sent as ${h.name}). Nothing was sent or charged.`,
        { variable: h.env, header: h.name },
      );
  }
  return out;
}

/** The values of a catalogue's header variables in an environment. */
export function headerValues(
  cat: Pick<Catalogue, 'headers'>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of cat.headers ?? []) {
    const v = env[h.env]?.trim();
    if (v) out[h.env] = v;
  }
  return out;
}
