/**
 * The checks every HTTP request passes before it reaches MCP: Host (DNS rebinding) and Origin (403),
 * bearer token (401), per-principal rate (429), body size (413). Plain node:http; no token is logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The host name of a Host header, without the port (IPv6 keeps its brackets off). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * Host names accepted in the Host header: the bound host, --allowed-hosts, and on loopback the loopback
 * names. Bound to a wildcard with no --allowed-hosts: undefined (any; tokens are required there).
 */
export function acceptedHosts(bound: string, allowed: readonly string[]): Set<string> | undefined {
  const out = new Set(allowed.map((h) => hostName(h)));
  if (isWildcard(bound)) return out.size ? out : undefined;
  out.add(bound.replace(/^\[|\]$/g, '').toLowerCase());
  if (isLoopback(bound)) for (const h of ['localhost', '127.0.0.1', '::1']) out.add(h);
  return out;
}

/** The default Origins on a loopback bind with no --allowed-origins: this server's own, over loopback names. */
export function ownOrigins(bound: string, port: number): string[] {
  if (!isLoopback(bound)) return [];
  return ['localhost', '127.0.0.1', '[::1]'].map((h) => `http://${h}:${port}`);
}

/** A token bucket per principal: `requests` per `perSeconds`, refilled continuously. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly requests: number,
    private readonly perSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the request may go ahead, else the seconds to wait (Retry-After). */
  take(key: string): number {
    const t = this.now();
    const rate = this.requests / (this.perSeconds * 1000);
    const b = this.buckets.get(key) ?? { tokens: this.requests, at: t };
    b.tokens = Math.min(this.requests, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}

/** A JSON-RPC error answer (id null: the request was not read as a JSON-RPC message). */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  code = -32000,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(body);
}

export class BodyTooLarge extends Error {}

/** The whole body, or BodyTooLarge as soon as it passes `max` bytes (Content-Length is checked first). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The bearer token of a request, if it sent one. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export type Verdict =
  { ok: true; principal: string } | { ok: false; status: number; message: string; headers?: Record<string, string> };

export interface GuardOptions {
  hosts: Set<string> | undefined;
  /** --allowed-origins; with none given on a loopback bind, this server's own loopback origins. */
  allowedOrigins: Set<string>;
  /** undefined: no tokens configured, every request is `local` (loopback binds only). */
  authenticate?: (token: string) => string | undefined;
  limiter?: RateLimiter;
}

/** Host, Origin, bearer and rate, in that order. */
export function check(req: IncomingMessage, o: GuardOptions): Verdict {
  const host = req.headers.host;
  if (o.hosts && (!host || !o.hosts.has(hostName(host))))
    return { ok: false, status: 403, message: 'Forbidden: Host not allowed' };
  const origin = req.headers.origin;
  if (origin !== undefined && !o.allowedOrigins.has(origin))
    return { ok: false, status: 403, message: 'Forbidden: Origin not allowed' };
  let principal = 'local';
  if (o.authenticate) {
    const token = bearerToken(req);
    const who = token === undefined ? undefined : o.authenticate(token);
    if (!who)
      return {
        ok: false,
        status: 401,
        message: token === undefined ? 'Unauthorized: bearer token required' : 'Unauthorized: unknown bearer token',
        headers: {
          'WWW-Authenticate':
            token === undefined ? 'Bearer realm="mediagen-mcp"' : 'Bearer realm="mediagen-mcp", error="invalid_token"',
        },
      };
    principal = who;
  }
  const wait = o.limiter?.take(principal) ?? 0;
  if (wait > 0)
    return {
      ok: false,
      status: 429,
      message: `Too many requests; retry after ${wait} s`,
      headers: { 'Retry-After': String(wait) },
    };
  return { ok: true, principal };
}
