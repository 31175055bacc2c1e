/**
 * Streamable HTTP transport on node:http through the SDK's StreamableHTTPServerTransport: /mcp (POST, GET,
 * DELETE), /healthz (alive, no auth), /readyz (store reachable, else 503), /hooks/<capability> (webhook
 * hints, see hooks.ts). Stateful (SDK session ids, one
 * MCP server per session, bound to the principal that opened it) or stateless (one server per request).
 * Bounded: messages per principal, batches, sessions, connections, and the time to send a request.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { PRM_PATH, PRM_PATH_MCP, type AuthGrant } from '../auth/types.js';
import type { Logger } from '../log.js';
import type { MediagenServer } from '../server.js';
import {
  acceptedHosts,
  addressKey,
  BodyTooLarge,
  charge,
  check,
  messageCount,
  ownOrigins,
  RateLimiter,
  readBody,
  sendError,
  type GuardOptions,
} from './http-guard.js';
import { challenge, insufficientScope, neededScopes, sendMetadata, type OAuthGuard } from './http-oauth.js';
import { cancelOnDrop, limitConnections, SessionTable } from './http-limits.js';
import type { HookRoute } from './hooks.js';
import { keyHeaders } from './http-keys.js';
import { HOOK_PATH } from '../jobs/webhook.js';
import { withLogContext } from '../log-context.js';
import type { Metrics } from '../metrics/metrics.js';
import { answerMetrics, METRICS_PATH } from '../metrics/serve.js';

export interface HttpOptions {
  host: string;
  port: number;
  stateless: boolean;
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
  maxBody: number;
  rate?: { requests: number; perSeconds: number };
  /** Failed bearer attempts per client address before it gets 429. */
  authFailRate?: { requests: number; perSeconds: number };
  /** Messages in one JSON-RPC batch (protocol 2025-03-26 and older only). */
  maxBatch: number;
  sessionIdleMs: number;
  maxSessions: number;
  maxSessionsPerPrincipal: number;
  /** Headers and body of a request must arrive within this (long answers and SSE streams are not limited). */
  requestTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Bearer token -> principal id; undefined when no tokens are configured (every caller is `local`). */
  authenticate?: (token: string) => string | undefined;
  /** --auth oauth: access tokens (instead of `authenticate`), and the protected resource metadata routes. */
  oauth?: OAuthGuard;
  /** With `oauth`: does a tools/call of `tool` need mediagen:generate (paid tools, cancel, uploads, approve)? */
  needsGenerate?: (principal: string, grant: AuthGrant, tool: string) => boolean;
  /**
   * A fresh MCP server for a principal; `sessionKey` is set in stateless mode (session caps per principal);
   * `grant`: the OAuth access token's (its scopes decide the tools listed).
   */
  serverFor: (principal: string, sessionKey: string | undefined, grant?: AuthGrant) => MediagenServer;
  /**
   * With `oauth`: what a session is bound to beyond its principal (the policy entry and the scope set). A
   * later request whose grant gives another binding gets 404 and re-initialises with the right app and tools.
   */
  bindingOf?: (grant: AuthGrant) => string;
  /** Store reachable? */
  ready: () => Promise<boolean>;
  /** POST /hooks/<capability>: webhook hints (no bearer; the capability is the credential). */
  hooks?: HookRoute;
  /** --byok: the providers (lower case) X-Mediagen-Key-<Provider> may name; without it such headers are a 400. */
  byok?: readonly string[];
  /** Counts HTTP answers; with `metricsToken` also serves GET /metrics behind that bearer token. */
  metrics?: Metrics;
  metricsToken?: string;
  logger: Logger;
}

export interface HttpHandle {
  url: string;
  port: number;
  /** Stop accepting, answer in-flight requests for up to drainMs, close sessions. */
  close: (drainMs: number) => Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  mcp: MediagenServer;
  principal: string;
  /** bindingOf of the grant that opened it ('' without OAuth). */
  binding: string;
  lastSeen: number;
  inflight: number;
}

export async function serveHttp(o: HttpOptions): Promise<HttpHandle> {
  const sessions = new SessionTable<Session>({
    max: o.maxSessions,
    perPrincipal: o.maxSessionsPerPrincipal,
    idleMs: o.sessionIdleMs,
  });
  const guard: GuardOptions = {
    hosts: acceptedHosts(o.host, o.allowedHosts),
    allowedOrigins: new Set(o.allowedOrigins),
    authenticate: o.authenticate,
    oauth: o.oauth,
    limiter: o.rate ? new RateLimiter(o.rate.requests, o.rate.perSeconds) : undefined,
    authFailures: o.authFailRate ? new RateLimiter(o.authFailRate.requests, o.authFailRate.perSeconds) : undefined,
  };
  let inflight = 0;
  let closing = false;
  const idle = new Set<() => void>();

  const endSession = async (id: string): Promise<void> => {
    const s = sessions.delete(id);
    if (!s) return;
    await s.mcp.drain(0);
    await s.transport.close().catch(() => undefined);
    await s.mcp.server.close().catch(() => undefined);
  };

  async function stateless(
    req: IncomingMessage,
    res: ServerResponse,
    principal: string,
    body: unknown,
    grant?: AuthGrant,
  ): Promise<void> {
    if (req.method !== 'POST')
      return sendError(res, 405, 'Method not allowed: this server is stateless', { Allow: 'POST' });
    const mcp = o.serverFor(principal, principal, grant);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    // Closing the transport aborts every handler of this request (the client may have gone mid-answer).
    res.on('close', () => {
      void transport.close().catch(() => undefined);
      void mcp.server.close().catch(() => undefined);
    });
    await mcp.server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async function stateful(
    req: IncomingMessage,
    res: ServerResponse,
    principal: string,
    body: unknown,
    grant?: AuthGrant,
  ): Promise<void> {
    const header = req.headers['mcp-session-id'];
    const id = Array.isArray(header) ? header[0] : header;
    const binding = grant && o.bindingOf ? o.bindingOf(grant) : '';
    if (id !== undefined) {
      const s = sessions.get(id);
      // Another principal's session is answered exactly like one that never existed; so is one opened under
      // another policy entry or scope set (its app and tool list are not this grant's).
      if (!s || s.principal !== principal || s.binding !== binding)
        return sendError(res, 404, 'Session not found', {}, -32001);
      // In flight until its answer is over: a POST's when answered, an SSE GET's when its stream closes
      // (handleRequest returns once the stream is open). The idle sweep never ends a session mid-request.
      const end = sessions.begin(s);
      res.once('close', end);
      if (req.method === 'POST') cancelOnDrop(res, s.transport, body);
      await s.transport.handleRequest(req, res, body);
      if (req.method === 'DELETE') await endSession(id);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body))
      return sendError(res, 400, 'Bad Request: no valid Mcp-Session-Id (send initialize first)');
    const place = sessions.reserve(principal);
    if (!place.ok) return sendError(res, place.status, place.message, { 'Retry-After': String(place.retryAfter) });
    let opened = false;
    let mcp: MediagenServer;
    try {
      mcp = o.serverFor(principal, undefined, grant);
    } catch (err) {
      place.release();
      throw err;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        opened = true;
        sessions.add(sid, { transport, mcp, principal, binding, lastSeen: Date.now(), inflight: 0 }, place);
      },
      onsessionclosed: (sid) => {
        sessions.delete(sid);
      },
    });
    try {
      await mcp.server.connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      if (!opened) {
        place.release();
        await transport.close().catch(() => undefined);
        await mcp.server.close().catch(() => undefined);
      }
    }
  }

  /** A challenge answered to an allowed Origin: a browser client may read WWW-Authenticate (CORS). */
  function exposeChallenge(req: IncomingMessage, headers: Record<string, string> = {}): Record<string, string> {
    const origin = req.headers.origin;
    if (!headers['WWW-Authenticate'] || origin === undefined || !guard.allowedOrigins.has(origin)) return headers;
    return {
      ...headers,
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Expose-Headers': 'WWW-Authenticate',
      Vary: 'Origin',
    };
  }

  async function mcpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = await check(req, guard);
    if (!verdict.ok) return sendError(res, verdict.status, verdict.message, exposeChallenge(req, verdict.headers));
    const keys = keyHeaders(req, o.byok);
    if (!keys.ok) return sendError(res, 400, keys.message);
    let body: unknown;
    let messages = 1;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, o.maxBody);
      } catch (e) {
        if (e instanceof BodyTooLarge)
          return sendError(res, 413, `Payload too large (limit ${o.maxBody} bytes)`, { Connection: 'close' });
        if (req.destroyed) return; // the client went, or --http-request-timeout closed the connection
        throw e;
      }
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return sendError(res, 400, 'Parse error: invalid JSON', {}, -32700);
      }
      const version = req.headers['mcp-protocol-version'];
      const count = messageCount(body, Array.isArray(version) ? version[0] : version, o.maxBatch);
      if (!count.ok) return sendError(res, 400, count.message, {}, -32600);
      messages = count.messages;
      // A call the grant's scopes do not cover is refused here, before MCP sees it (no provider request).
      const grant = verdict.grant;
      if (o.oauth && grant) {
        const paid = (tool: string): boolean => o.needsGenerate?.(verdict.principal, grant, tool) ?? true;
        const missing = [...neededScopes(body, paid)].filter((s) => !grant.scopes.has(s));
        if (missing.length) {
          const f = insufficientScope(missing.join(' '), `this call needs the ${missing.join(' and ')} scope`);
          return sendError(
            res,
            403,
            `Forbidden: ${f.description}`,
            exposeChallenge(req, { 'WWW-Authenticate': challenge(o.oauth.resource, f) }),
          );
        }
      }
    }
    // Every JSON-RPC message counts against --http-rate, so a batch pays for each one it carries.
    const charged = charge(verdict.principal, messages, guard);
    if (!charged.ok) return sendError(res, charged.status, charged.message, charged.headers, -32000);
    if (o.stateless) await stateless(req, res, verdict.principal, body, verdict.grant);
    else await stateful(req, res, verdict.principal, body, verdict.grant);
  }

  const server = createHttpServer(
    {
      // Headers and body must arrive within the request timeout; the answer (SSE streams, jobs_wait) may
      // take as long as it needs. Checked often enough that a short timeout is kept closely.
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: Math.min(60_000, o.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(o.requestTimeoutMs / 4))),
    },
    (req, res) => {
      if (refused(req.socket)) {
        // Its refusal is on its way (or sent): a request line on it is never served, the socket goes.
        const sock = req.socket;
        if (sock.writableFinished) sock.destroy();
        else sock.once('finish', () => sock.destroy());
        return;
      }
      const path = (req.url ?? '/').split('?')[0];
      o.metrics?.httpAnswer(path, res);
      if (path === METRICS_PATH && o.metrics && o.metricsToken !== undefined)
        return answerMetrics(o.metrics, req, res, {
          token: o.metricsToken,
          failures: guard.authFailures,
          address: addressKey(req.socket.remoteAddress),
        });
      if (path === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
        return;
      }
      if (path === '/readyz') {
        void o.ready().then(
          (ok) => {
            res
              .writeHead(ok && !closing ? 200 : 503, { 'Content-Type': 'application/json' })
              .end(JSON.stringify({ status: ok && !closing ? 'ready' : closing ? 'stopping' : 'store unreachable' }));
          },
          () => res.writeHead(503).end(JSON.stringify({ status: 'store unreachable' })),
        );
        return;
      }
      if (o.oauth && (path === PRM_PATH_MCP || path === PRM_PATH)) {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          return sendError(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
        return sendMetadata(res, o.oauth.resource);
      }
      if (o.hooks && path.startsWith(HOOK_PATH)) return o.hooks.handle(req, res, path, guard.hosts);
      if (path !== '/mcp') return sendError(res, 404, 'Not found: the MCP endpoint is /mcp');
      if (!['POST', 'GET', 'DELETE'].includes(req.method ?? ''))
        return sendError(res, 405, 'Method not allowed', { Allow: 'POST, GET, DELETE' });
      if (closing) return sendError(res, 503, 'Server is shutting down', { Connection: 'close' });
      inflight += req.method === 'GET' ? 0 : 1;
      withLogContext({ request_id: randomUUID() }, () => mcpRequest(req, res))
        .catch((err: unknown) => {
          o.logger.error('HTTP request failed', { error: String(err) });
          sendError(res, 500, 'Internal error', {}, -32603);
        })
        .finally(() => {
          inflight -= req.method === 'GET' ? 0 : 1;
          if (inflight === 0) for (const f of idle) f();
        });
    },
  );
  const refused = limitConnections(server, { max: o.maxConnections, perAddress: o.maxConnectionsPerAddress });

  const sweep = setInterval(
    () => {
      for (const id of sessions.idle()) void endSession(id);
      guard.limiter?.prune();
      guard.authFailures?.prune();
      o.hooks?.prune();
    },
    Math.min(60_000, o.sessionIdleMs),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (o.allowedOrigins.length === 0) for (const origin of ownOrigins(o.host, port)) guard.allowedOrigins.add(origin);
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/mcp`,
    port,
    close: async (drainMs) => {
      closing = true;
      clearInterval(sweep);
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inflight > 0)
        await new Promise<void>((resolve) => {
          const done = (): void => {
            idle.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, drainMs);
          idle.add(done);
        });
      await Promise.all(sessions.ids().map(endSession));
      server.closeAllConnections();
      await stopped;
    },
  };
}
