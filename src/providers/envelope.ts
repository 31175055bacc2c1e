/**
 * Request shaping (path/query/body, wrapping, wire values) and response interpretation (envelopes,
 * HTTP statuses, provider codes -> our error codes). Pure functions: no I/O.
 */
import type { Catalogue, Operation, Param } from '../catalogue/format.js';
import { isErrorCode, MediagenError, type ErrorCode } from '../errors.js';

export interface WireRequest {
  method: string;
  /** Path with placeholders filled and a query string, relative to the base URL. */
  path: string;
  body?: string;
}

/** Walk a dotted path; "a[].b" maps over an array. Returns undefined when absent. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown[] = [obj];
  let many = false;
  for (const raw of path.split('.')) {
    const isArr = raw.endsWith('[]');
    const key = isArr ? raw.slice(0, -2) : raw;
    cur = cur.flatMap((o) => {
      // Own properties only: a path segment never reaches a prototype (`constructor`, `__proto__`).
      const v =
        o !== null && typeof o === 'object' && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
      return isArr ? (Array.isArray(v) ? v : []) : [v];
    });
    many ||= isArr;
  }
  const defined = cur.filter((v) => v !== undefined);
  return many ? defined : defined[0];
}

function wireValue(p: Param, v: unknown): unknown {
  if (p.type === 'boolean' && p.wire && typeof v === 'boolean') return v ? p.wire.true : p.wire.false;
  return v;
}

/** Build the HTTP request for validated, defaults-applied arguments. Guard fields are never sent. */
export function buildRequest(cat: Catalogue, op: Operation, args: Readonly<Record<string, unknown>>): WireRequest {
  let path = op.path;
  const query = new URLSearchParams();
  const body: Record<string, unknown> = {};
  for (const p of op.params) {
    const v = args[p.name];
    if (v === undefined) continue;
    const w = wireValue(p, v);
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(String(w)));
    else if (p.in === 'query') query.append(p.name, String(w));
    else body[p.name] = w;
  }
  const qs = query.toString();
  if (qs) path += (path.includes('?') ? '&' : '?') + qs;
  if (op.method === 'GET' || op.method === 'DELETE') return { method: op.method, path };
  const wrap = cat.request.wrap;
  const payload = wrap ? (Object.keys(body).length ? { [wrap]: body } : {}) : body;
  return { method: op.method, path, body: JSON.stringify(payload) };
}

/**
 * A provider job id we are willing to store and paste into a status URL: letters, digits and `._:~-`, not
 * starting with a dot (so never `.` or `..`), at most 200 characters. Provider data is untrusted.
 */
export const PROVIDER_JOB_ID = /^[A-Za-z0-9_][A-Za-z0-9._:~-]{0,199}$/;

export function validProviderJobId(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return typeof v === 'string' && PROVIDER_JOB_ID.test(v) ? v : undefined;
}

/** A route of a job block (status/cancel) filled with the provider job id. */
export function jobRequest(route: { method: string; path: string }, providerJobId: string): WireRequest {
  if (validProviderJobId(providerJobId) === undefined)
    throw new MediagenError(
      'PROVIDER_HTTP',
      `Refused to use provider job id ${JSON.stringify(providerJobId.slice(0, 40))}.`,
    );
  const path = route.path.replace(/\{[^}]+\}/, encodeURIComponent(providerJobId));
  if (route.method === 'GET' || route.method === 'DELETE') return { method: route.method, path };
  return { method: route.method, path, body: '{}' };
}

/** Keep a short, printable, secret-free excerpt of an upstream body for error messages. */
export function excerpt(text: string, redact: (s: string) => string, max = 300): string {
  const flat = redact(text).replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}

function statusCode(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'PROVIDER_AUTH';
  if (status === 402) return 'INSUFFICIENT_CREDITS';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408 || status === 504) return 'PROVIDER_TIMEOUT';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 400 && status < 500) return 'PROVIDER_REJECTED';
  return 'PROVIDER_HTTP';
}

function field(obj: unknown, name: string | undefined): unknown {
  return name ? getPath(obj, name) : undefined;
}

function messageOf(cat: Catalogue, json: unknown): string | undefined {
  const candidates = [cat.response.errorMessage, 'message', 'error', 'detail', 'msg'];
  for (const c of candidates) {
    const v = field(json, c);
    if (typeof v === 'string' && v) return v;
    if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string')
      return (v as { message: string }).message;
  }
  return undefined;
}

export interface Interpreted {
  /** The payload (the envelope's data field, or the whole body). */
  data: unknown;
  trace?: string;
}

/**
 * Turn an HTTP answer into data or a MediagenError. HTTP 200 with a non-ok envelope code is an error.
 */
export function interpret(
  cat: Catalogue,
  status: number,
  text: string,
  redact: (s: string) => string,
  retryAfter?: string,
): Interpreted {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  const provider = cat.provider;
  if (status < 200 || status >= 300) {
    const code = statusCode(status);
    const msg = (json !== undefined && messageOf(cat, json)) || excerpt(text, redact, 200) || 'no body';
    const details: Record<string, unknown> = { provider, httpStatus: status };
    if (retryAfter) details.retryAfterSeconds = Number(retryAfter) || retryAfter;
    throw new MediagenError(code, `${provider} answered HTTP ${status}: ${excerpt(msg, redact)}`, details);
  }
  if (json === undefined)
    throw new MediagenError(
      'PROVIDER_HTTP',
      `${provider} answered with a body that is not JSON: ${excerpt(text, redact, 120)}`,
      {
        provider,
        httpStatus: status,
      },
    );
  const env = cat.response.envelope;
  if (!env) return { data: json };
  const code = field(json, env.code);
  const trace = field(json, env.trace);
  const traceText = typeof trace === 'string' ? trace : undefined;
  if (!env.ok.some((ok) => String(ok) === String(code))) {
    const mapped = env.errors[String(code)];
    const ours: ErrorCode = mapped && isErrorCode(mapped) ? mapped : 'PROVIDER_REJECTED';
    const msg = messageOf(cat, json) ?? 'no message';
    throw new MediagenError(ours, `${provider} error ${String(code)}: ${excerpt(msg, redact)}`, {
      provider,
      providerCode: code,
      ...(traceText ? { traceId: traceText } : {}),
    });
  }
  return { data: env.data ? field(json, env.data) : json, trace: traceText };
}
