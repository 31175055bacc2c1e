/** stderr-only logger: in stdio mode stdout carries nothing but MCP messages. */
import { logContext } from './log-context.js';
import { requestSecrets } from './request-keys.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const BEARER = /\b(Bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const KEY_FIELD =
  /\b((?:x-)?api[_-]?key|x-provider-key(?:-[a-z0-9]+)*|authorization)(["']?\s*[:=]\s*["']?)(?!Bearer\b)([^\s"',;}&[\]]{6,})/gi;

/** Environment values that are secrets by their variable's name (…_API_KEY, …_KEY, …_TOKEN, …_SECRET). */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => /(?:KEY|TOKEN|SECRET|PASSWORD)$/i.test(k) && typeof v === 'string' && v.trim().length >= 8)
    .map(([, v]) => (v as string).trim());
}

/**
 * One redactor for everything that may carry a secret: every configured key (as is, JSON-escaped and
 * URL-encoded) and anything shaped like a bearer token or an API-key header/field.
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < 4) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  const live = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of live) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out.replace(BEARER, '$1$2[redacted]').replace(KEY_FIELD, '$1$2[redacted]');
  };
}

export type LogFormat = 'text' | 'json';

/** Every string inside `v` through `r` (the JSON form's values are scrubbed one by one before the line is). */
function deepRedact(v: unknown, r: (s: string) => string, depth = 0): unknown {
  if (typeof v === 'string') return r(v);
  if (v === null || typeof v !== 'object' || depth > 8) return v;
  if (Array.isArray(v)) return v.map((x) => deepRedact(x, r, depth + 1));
  if (v instanceof Error) return r(String(v));
  const toJSON = (v as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return deepRedact(toJSON.call(v), r, depth + 1);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepRedact(x, r, depth + 1)]));
}

/**
 * `json`: one object per line, `{"time", "level", "message", …}` plus the request's context (log-context.ts:
 * request_id, principal, tool, job, price, where known) and the line's own fields (which win).
 */
function jsonLine(lvl: Level, msg: string, fields: Record<string, unknown> | undefined, r: (s: string) => string) {
  const base = { time: new Date().toISOString(), level: lvl, message: r(msg), ...logContext() };
  try {
    return JSON.stringify({ ...base, ...(deepRedact(fields ?? {}, r) as Record<string, unknown>) });
  } catch {
    return JSON.stringify({ ...base, fields: r(String(fields)) });
  }
}

/** A whole-line redaction that cut a JSON string short: the line rebuilt from the redacted message only. */
function stillJson(line: string, rebuilt: () => string): string {
  try {
    JSON.parse(line);
    return line;
  } catch {
    return rebuilt();
  }
}

export function createLogger(
  level: Level = 'info',
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  format: LogFormat = 'text',
): Logger {
  const redact = redactor(secrets);
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    // A request's own provider keys (--byok) are scrubbed for as long as that request runs.
    const own = requestSecrets();
    const r = own.length
      ? (
          (o) => (s: string) =>
            o(redact(s))
        )(redactor(own))
      : redact;
    if (format === 'json') {
      // Each value is scrubbed, then the whole line once more (which must leave it valid JSON).
      const line = r(jsonLine(lvl, msg, fields, r));
      write(stillJson(line, () => jsonLine(lvl, msg, undefined, r)));
      return;
    }
    const tail = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    write(r(`[mediagen-mcp] ${lvl}: ${msg}${tail}`));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
