/**
 * Bounds on what HTTP clients can hold: MCP sessions (per principal and overall, with an idle timeout)
 * and TCP connections (overall and per client address). A refusal is a clear answer, never a silent drop.
 * And a POST whose client has gone stops what it asked for.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { addressKey } from './http-guard.js';

export interface SessionEntry {
  principal: string;
  /** When its last request ended (or its first began); counts only while none is in flight. */
  lastSeen: number;
  /** Requests of the session not yet answered, an open SSE GET stream included. */
  inflight: number;
}

export type Place =
  { ok: true; release: () => void } | { ok: false; status: number; message: string; retryAfter: number };

/** Live sessions by id, plus places reserved by initialisations still under way (so a burst cannot pass the caps). */
export class SessionTable<S extends SessionEntry> {
  private readonly live = new Map<string, S>();
  private readonly held = new Map<string, number>();
  private pendingTotal = 0;

  constructor(
    private readonly limits: { max: number; perPrincipal: number; idleMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): S | undefined {
    return this.live.get(id);
  }

  ids(): string[] {
    return [...this.live.keys()];
  }

  /** Ids of sessions with no request in flight, whose last one ended more than the idle timeout ago. */
  idle(): string[] {
    const cutoff = this.now() - this.limits.idleMs;
    const out: string[] = [];
    for (const [id, s] of this.live) if (s.inflight === 0 && s.lastSeen < cutoff) out.push(id);
    return out;
  }

  /** A request of session `s` has begun: it does not idle out until `end` is called (once is enough). */
  begin(s: S): () => void {
    s.inflight++;
    s.lastSeen = this.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      s.inflight--;
      s.lastSeen = this.now();
    };
  }

  private count(principal: string): number {
    return this.held.get(principal) ?? 0;
  }

  private bump(principal: string, by: number): void {
    const n = this.count(principal) + by;
    if (n > 0) this.held.set(principal, n);
    else this.held.delete(principal);
  }

  /** Seconds until the first of these sessions idles out (at least 1; a loop, as any number may be open). */
  private soonest(sessions: Iterable<S>): number {
    let first = this.now();
    for (const s of sessions) if (s.inflight === 0 && s.lastSeen < first) first = s.lastSeen;
    return Math.max(1, Math.ceil((first + this.limits.idleMs - this.now()) / 1000));
  }

  private *of(principal: string): Generator<S> {
    for (const s of this.live.values()) if (s.principal === principal) yield s;
  }

  /** A place for one more session of `principal`, or the refusal (429 over its own cap, 503 over the server's). */
  reserve(principal: string): Place {
    const idleS = Math.round(this.limits.idleMs / 1000);
    if (this.count(principal) >= this.limits.perPrincipal)
      return {
        ok: false,
        status: 429,
        message: `Too many sessions: this principal has ${this.limits.perPrincipal} open (--http-max-sessions-per-principal); end one with DELETE /mcp or let one idle out (${idleS} s)`,
        retryAfter: this.soonest(this.of(principal)),
      };
    if (this.live.size + this.pendingTotal >= this.limits.max)
      return {
        ok: false,
        status: 503,
        message: `Too many sessions: the server holds ${this.limits.max} (--http-max-sessions); retry later`,
        retryAfter: this.soonest(this.live.values()),
      };
    this.bump(principal, 1);
    this.pendingTotal++;
    let done = false;
    return {
      ok: true,
      release: () => {
        if (done) return;
        done = true;
        this.pendingTotal--;
        this.bump(principal, -1);
      },
    };
  }

  /** The initialisation that reserved `place` opened session `id`: the place now belongs to it. */
  add(id: string, s: S, place: { release: () => void }): void {
    place.release();
    this.live.set(id, s);
    this.bump(s.principal, 1);
  }

  delete(id: string): S | undefined {
    const s = this.live.get(id);
    if (!s) return undefined;
    this.live.delete(id);
    this.bump(s.principal, -1);
    return s;
  }
}

function rawRefusal(status: number, reason: string, message: string): string {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json',
    'Retry-After: 1',
    'Connection: close',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/**
 * Count open TCP connections overall and per client address; one past a limit is answered (503 over the
 * server's, 429 over the address's) and closed before any request on it is served. Returns a test for
 * sockets so refused, whose requests the request handler must not serve (it closes the socket).
 */
export function limitConnections(server: Server, o: { max: number; perAddress: number }): (s: Socket) => boolean {
  const refused = new WeakSet<Socket>();
  const byAddress = new Map<string, number>();
  let total = 0;
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const mine = byAddress.get(key) ?? 0;
    const over =
      mine >= o.perAddress
        ? rawRefusal(
            429,
            'Too Many Requests',
            `Too many connections from this address (limit ${o.perAddress}); close one and retry`,
          )
        : total >= o.max
          ? rawRefusal(503, 'Service Unavailable', `Too many connections: the server holds ${o.max}; retry shortly`)
          : undefined;
    if (over) {
      // A fixed deadline, not an idle timeout: traffic on a refused socket must not keep it open.
      refused.add(socket);
      socket.end(over);
      const timer = setTimeout(() => socket.destroy(), 2_000);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
      return;
    }
    total++;
    byAddress.set(key, mine + 1);
    socket.once('close', () => {
      total--;
      const left = (byAddress.get(key) ?? 1) - 1;
      if (left > 0) byAddress.set(key, left);
      else byAddress.delete(key);
    });
  });
  return (s) => refused.has(s);
}

/** Ids of the JSON-RPC requests in a POST body (not notifications or responses). */
function requestIds(body: unknown): (string | number)[] {
  const all: unknown[] = Array.isArray(body) ? body : [body];
  return all.flatMap((m) => {
    const r = m as { method?: unknown; id?: unknown } | null;
    return r && typeof r.method === 'string' && (typeof r.id === 'string' || typeof r.id === 'number') ? [r.id] : [];
  });
}

/**
 * A client that drops its POST before the answer has cancelled what it asked for: tell the session's MCP
 * server so, as a notifications/cancelled would, so that the handlers' signals abort (jobs_wait stops
 * polling). A paid create already sent is not affected: it finishes and is recorded (its POST is detached).
 */
export function cancelOnDrop(res: ServerResponse, transport: StreamableHTTPServerTransport, body: unknown): void {
  const ids = requestIds(body);
  if (!ids.length) return;
  res.once('close', () => {
    if (res.writableEnded) return;
    for (const requestId of ids) {
      const cancel: JSONRPCMessage = {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId, reason: 'the HTTP client closed the connection' },
      };
      transport.onmessage?.(cancel);
    }
  });
}
