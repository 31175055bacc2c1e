/**
 * The checks every HTTP request passes before it reaches MCP: Host (DNS rebinding) and Origin (403),
 * failed bearer attempts per client address (429), bearer token (401), per-principal rate counted in
 * JSON-RPC messages (429), batches (400), body size (413). Plain node:http; no token is logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AuthGrant } from '../auth/types.js';
import { oauthVerdict, type OAuthGuard } from './http-oauth.js';

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

/** The bucket that keys past the bound share (no key of a principal or an address looks like it). */
const OVERFLOW = '\u0000overflow';

/**
 * A token bucket per key (principal, or client address): `requests` per `perSeconds`, refilled continuously.
 * At most `maxKeys` buckets: past that, new keys share one overflow bucket (which errs on the side of
 * limiting) until a prune (at most once a second) makes room.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private prunedAt = -Infinity;
  constructor(
    readonly requests: number,
    readonly perSeconds: number,
    private readonly now: () => number = Date.now,
    readonly maxKeys = 100_000,
  ) {}

  /** Buckets held (the overflow one included). */
  get size(): number {
    return this.buckets.size;
  }

  private tokens(key: string, t: number): number {
    const b = this.buckets.get(key);
    return b ? Math.min(this.requests, b.tokens + (t - b.at) * this.rate()) : this.requests;
  }

  private rate(): number {
    return this.requests / (this.perSeconds * 1000);
  }

  /** The bucket `key` counts against: its own, or past the bound the overflow one. */
  private slot(key: string, t: number): string {
    if (this.buckets.has(key) || this.buckets.size < this.maxKeys) return key;
    if (t - this.prunedAt >= 1000) this.prune();
    return this.buckets.size < this.maxKeys ? key : OVERFLOW;
  }

  /** Seconds until `n` tokens are there (0: now); takes nothing. */
  wait(key: string, n = 1): number {
    const t = this.now();
    const have = this.tokens(this.slot(key, t), t);
    return have >= n ? 0 : Math.max(1, Math.ceil((n - have) / this.rate() / 1000));
  }

  /** Take `n` tokens, all or none: 0 when taken, else the seconds to wait (Retry-After). */
  take(key: string, n = 1): number {
    const t = this.now();
    const slot = this.slot(key, t);
    const have = this.tokens(slot, t);
    if (have < n) return Math.max(1, Math.ceil((n - have) / this.rate() / 1000));
    this.buckets.set(slot, { tokens: have - n, at: t });
    return 0;
  }

  /** Forget every bucket that has refilled (a full bucket is the same as none): memory stays bounded. */
  prune(): void {
    const t = this.now();
    this.prunedAt = t;
    for (const [key] of this.buckets) if (this.tokens(key, t) >= this.requests) this.buckets.delete(key);
  }
}

/**
 * The key of a client address for per-address limits: IPv4 as it is (also when IPv4-mapped), IPv6 by its
 * /64 prefix (one host or subscriber usually holds a whole /64).
 */
export function addressKey(address: string | undefined): string {
  const a = (address ?? '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1];
  if (isIP(a) !== 6) return a;
  const [head, tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
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
  | { ok: true; principal: string; grant?: AuthGrant }
  | {
      ok: false;
      status: number;
      message: string;
      headers?: Record<string, string>;
      /** A bearer token was sent and did not verify (an expired one does not count). */
      failedAttempt?: boolean;
    };

export interface GuardOptions {
  hosts: Set<string> | undefined;
  /** --allowed-origins; with none given on a loopback bind, this server's own loopback origins. */
  allowedOrigins: Set<string>;
  /** undefined: no tokens configured, every request is `local` (loopback binds only). */
  authenticate?: (token: string) => string | undefined;
  /** --auth oauth (instead of `authenticate`). */
  oauth?: OAuthGuard;
  /** --http-rate: messages per principal. */
  limiter?: RateLimiter;
  /** --http-auth-fail-rate: failed bearer attempts per client address. */
  authFailures?: RateLimiter;
}

const tooMany = (wait: number, message: string): Verdict => ({
  ok: false,
  status: 429,
  message: `${message}; retry after ${wait} s`,
  headers: { 'Retry-After': String(wait) },
});

/**
 * Host, Origin, failed bearer attempts of the address, bearer, and whether the principal's rate has room
 * for one more message (nothing is taken: `charge` takes one per message once the body is read).
 */
export async function check(req: IncomingMessage, o: GuardOptions): Promise<Verdict> {
  const host = req.headers.host;
  if (o.hosts && (!host || !o.hosts.has(hostName(host))))
    return { ok: false, status: 403, message: 'Forbidden: Host not allowed' };
  const origin = req.headers.origin;
  if (origin !== undefined && !o.allowedOrigins.has(origin))
    return { ok: false, status: 403, message: 'Forbidden: Origin not allowed' };
  let principal = 'local';
  let grant: AuthGrant | undefined;
  if (o.authenticate || o.oauth) {
    const address = addressKey(req.socket.remoteAddress);
    const token = bearerToken(req);
    if (o.oauth) {
      // Verified first: many clients share an egress address (a hosted client's servers), and a token that
      // verifies is no guess, so it is served whatever failures the address has. Only tokens that fail
      // to verify (an expired one excepted) count, and only they are blocked past the limit.
      const v = await oauthVerdict(token, o.oauth);
      if (!v.ok) {
        if (v.status !== 403) {
          const blocked = o.authFailures?.wait(address) ?? 0;
          if (blocked > 0) return tooMany(blocked, 'Too many failed bearer attempts from this address');
        }
        if (v.failedAttempt) o.authFailures?.take(address);
        return v;
      }
      principal = v.principal;
      grant = v.grant;
    } else {
      // An address past its failed attempts is not heard at all, a right token included: otherwise the
      // limit would not slow guessing (a right guess would still get in). Other addresses are unaffected.
      const blocked = o.authFailures?.wait(address) ?? 0;
      if (blocked > 0) return tooMany(blocked, 'Too many failed bearer attempts from this address');
      const who = token === undefined || !o.authenticate ? undefined : o.authenticate(token);
      if (!who) {
        if (token !== undefined) o.authFailures?.take(address);
        return {
          ok: false,
          status: 401,
          message: token === undefined ? 'Unauthorized: bearer token required' : 'Unauthorized: unknown bearer token',
          headers: {
            'WWW-Authenticate':
              token === undefined
                ? 'Bearer realm="mediagen-mcp"'
                : 'Bearer realm="mediagen-mcp", error="invalid_token"',
          },
        };
      }
      principal = who;
    }
  }
  const wait = o.limiter?.wait(principal) ?? 0;
  if (wait > 0) return tooMany(wait, 'Too many requests');
  return { ok: true, principal, grant };
}

/** Charge `messages` JSON-RPC messages to the principal's rate, all or none. */
export function charge(principal: string, messages: number, o: GuardOptions): Verdict {
  if (!o.limiter) return { ok: true, principal };
  if (messages > o.limiter.requests)
    return {
      ok: false,
      status: 400,
      message: `Invalid Request: a batch of ${messages} messages is more than --http-rate allows at once (${o.limiter.requests}); send smaller batches`,
    };
  const wait = o.limiter.take(principal, messages);
  if (wait > 0)
    return tooMany(
      wait,
      messages > 1 ? `Too many requests: this batch counts ${messages} messages` : 'Too many requests',
    );
  return { ok: true, principal };
}

/** The protocol version after which JSON-RPC batches are no part of MCP (removed in 2025-06-18). */
const LAST_BATCHING_VERSION = '2025-03-26';

/**
 * How many messages a POST body carries, or why it is refused: a batch is allowed only on protocol
 * versions that had batching (the Mcp-Protocol-Version header; none means 2025-03-26, as the SDK assumes),
 * with at most `maxBatch` messages.
 */
export function messageCount(
  body: unknown,
  protocolVersion: string | undefined,
  maxBatch: number,
): { ok: true; messages: number } | { ok: false; message: string } {
  if (!Array.isArray(body)) return { ok: true, messages: 1 };
  const version = protocolVersion ?? LAST_BATCHING_VERSION;
  if (version > LAST_BATCHING_VERSION)
    return {
      ok: false,
      message: `Invalid Request: JSON-RPC batches are not part of MCP protocol ${version}; send one message per request`,
    };
  if (body.length === 0) return { ok: false, message: 'Invalid Request: empty batch' };
  if (body.length > maxBatch)
    return {
      ok: false,
      message: `Invalid Request: a batch of ${body.length} messages is over the limit of ${maxBatch} (--http-max-batch)`,
    };
  return { ok: true, messages: body.length };
}
