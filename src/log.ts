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

/** Keys every JSON line sets itself: a field of that name is written as `field_<name>`. */
const RESERVED = new Set(['time', 'level', 'message']);

/**
 * Every string inside `v` (keys too) through `r`, as JSON can carry it: a BigInt as its decimal text, a
 * value seen already on the way down (a cycle) as "[circular]", an Error as its text.
 */
function deepRedact(v: unknown, r: (s: string) => string, seen = new WeakSet<object>(), depth = 0): unknown {
  if (typeof v === 'string') return r(v);
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object' || depth > 8) return v;
  if (seen.has(v)) return '[circular]';
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => deepRedact(x, r, seen, depth + 1));
    if (v instanceof Error) return r(String(v));
    const toJSON = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === 'function') return deepRedact(toJSON.call(v), r, seen, depth + 1);
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        const key = r(k);
        if (typeof x !== 'string') return [key, deepRedact(x, r, seen, depth + 1)];
        // The key names the value (`api_key`, `authorization`): scrubbed as the pair the line will show.
        const pair = r(`${k}=${x}`);
        return [key, pair.startsWith(`${key}=`) ? pair.slice(key.length + 1) : r(x)];
      }),
    );
  } finally {
    seen.delete(v); // a value met twice side by side is no cycle
  }
}

/**
 * `json`: one object per line, `{"time", "level", "message", …}` plus the request's context (log-context.ts:
 * request_id, principal, tool, job, price, where known) and the line's own fields (which win over the
 * context; one named time, level or message is written as field_time, field_level, field_message).
 * Every value is scrubbed on its own, then the whole line once more when that leaves it valid JSON.
 */
function jsonLine(lvl: Level, msg: string, fields: Record<string, unknown> | undefined, r: (s: string) => string) {
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {})) own[RESERVED.has(k) ? `field_${k}` : k] = v;
  let line: string;
  try {
    const body = deepRedact({ ...logContext(), ...own }, r) as Record<string, unknown>;
    line = JSON.stringify({ time: new Date().toISOString(), level: lvl, message: r(msg), ...body });
  } catch (err) {
    // A toJSON that throws: the line keeps its message and says why its fields are missing.
    line = JSON.stringify({
      time: new Date().toISOString(),
      level: lvl,
      message: r(msg),
      ...(deepRedact(logContext(), r) as Record<string, unknown>),
      fields_error: r(String(err)),
    });
  }
  // The whole-line pass may cut a JSON string short (a secret inside an escape): then the per-value line.
  const whole = r(line);
  try {
    JSON.parse(whole);
    return whole;
  } catch {
    return line;
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
      write(jsonLine(lvl, msg, fields, r));
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
