/**
 * `mediagen-mcp ui`: the gallery and the spend view for the person at the desk, on 127.0.0.1 only, reading
 * the same store as `serve` (state folder or DATABASE_URL). Every path starts with a random per-run token
 * (`/<token>/...`): without it a request is refused (401, or 403 for a wrong one), and so is any Host or
 * Origin that is not this loopback address (DNS rebinding, other sites). The MCP endpoint (`/<token>/mcp`,
 * Streamable HTTP with sessions) lists and runs only the read tools and jobs_cancel: no paid tool, no
 * approval tool, no upload. The views are shown through the host page (dist/views/host.html).
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createApp, type App, type AppOptions } from '../app.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { StartupError } from '../errors.js';
import { BodyTooLarge, hostName, readBody, sendError } from '../transports/http-guard.js';
import { THUMBNAIL_TOOL } from '../views/uris.js';
import { indexPage, uiLinks } from './ui-page.js';

/** What the page may call: reads, and cancel. Nothing that spends, approves or uploads. */
export const UI_TOOLS: ReadonlySet<string> = new Set([
  'jobs_list',
  'jobs_get',
  'spend_report',
  THUMBNAIL_TOOL,
  'jobs_cancel',
]);

const MAX_BODY = 1024 * 1024;
const HOST_PAGE = join(dirname(fileURLToPath(import.meta.url)), '..', 'views', 'host.html');

/** Headers of every answer: nothing cached, the token never sent on as a Referer. */
const BASE_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

export interface UiServer {
  /** `http://127.0.0.1:<port>/<token>/`: the page to open. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface UiOptions {
  app: App;
  /** 0: a free port. */
  port: number;
  /** The caller of every call of this page (`ui:<pid>`): jobs_cancel lets it cancel any job of `local`. */
  callerId: string;
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Host and Origin must name this loopback server; anything else is refused before the token is read. */
function foreign(req: IncomingMessage, port: number): string | undefined {
  const host = req.headers.host ?? '';
  const name = hostName(host);
  if (!['127.0.0.1', 'localhost'].includes(name) || host.slice(host.lastIndexOf(':') + 1) !== String(port))
    return 'Host not allowed';
  const origin = req.headers.origin;
  if (origin !== undefined && ![`http://127.0.0.1:${port}`, `http://localhost:${port}`].includes(origin))
    return 'Origin not allowed';
  return undefined;
}

/** The page's MCP sessions (the host page opens one per view it shows); the oldest go past MAX_SESSIONS. */
const MAX_SESSIONS = 64;
type Session = { transport: StreamableHTTPServerTransport; close: () => void };
type Sessions = Map<string, Session>;

/**
 * The MCP endpoint: sessions, so the server keeps what the client declared at initialize (the apps
 * extension, which tools/list answers with the views' links). A request naming an unknown session: 404.
 */
async function mcp(req: IncomingMessage, res: ServerResponse, o: UiOptions, sessions: Sessions): Promise<void> {
  for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
  const sid = req.headers['mcp-session-id'];
  const known = typeof sid === 'string' ? sessions.get(sid) : undefined;
  if (sid !== undefined && !known) return sendError(res, 404, 'Session not found', BASE_HEADERS);
  if (known && req.method !== 'POST') return known.transport.handleRequest(req, res);
  if (req.method !== 'POST') return sendError(res, 405, 'Method not allowed', { ...BASE_HEADERS, Allow: 'POST' });
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req, MAX_BODY)).toString('utf8'));
  } catch (err) {
    if (err instanceof BodyTooLarge) return sendError(res, 413, 'Request body too large', BASE_HEADERS);
    return sendError(res, 400, 'Parse error: the body is not JSON', BASE_HEADERS, -32700);
  }
  if (known) return known.transport.handleRequest(req, res, body);
  if (!isInitializeRequest(body)) return sendError(res, 400, 'Bad request: no session; initialize first', BASE_HEADERS);
  const server = o.app.createMcpServer(o.callerId, 'local', UI_TOOLS, true);
  const close = (): void => {
    void transport.close().catch(() => undefined);
    void server.server.close().catch(() => undefined);
  };
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => {
      sessions.set(id, { transport, close });
      for (const [old, s] of sessions) {
        if (sessions.size <= MAX_SESSIONS) break;
        sessions.delete(old);
        s.close();
      }
    },
    onsessionclosed: (id) => void sessions.delete(id),
  });
  await server.server.connect(transport);
  await transport.handleRequest(req, res, body);
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  o: UiOptions,
  token: string,
  port: number,
  sessions: Sessions,
) {
  const refused = foreign(req, port);
  if (refused) return sendError(res, 403, refused, BASE_HEADERS);
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const [, given, ...rest] = path.split('/');
  if (!given) return sendError(res, 401, 'This page needs the address mediagen-mcp ui printed', BASE_HEADERS);
  if (!sameToken(given, token)) return sendError(res, 403, 'Wrong token', BASE_HEADERS);
  const tail = rest.join('/');
  if (rest.length === 0) {
    res.writeHead(308, { ...BASE_HEADERS, Location: `/${token}/` }).end();
    return;
  }
  if (tail === 'mcp') return mcp(req, res, o, sessions);
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'Method not allowed', BASE_HEADERS);
  if (tail === '') {
    const hostBuilt = await readFile(HOST_PAGE).then(
      () => true,
      () => false,
    );
    res
      .writeHead(200, {
        ...BASE_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      })
      .end(indexPage(uiLinks(`/${token}/mcp`), hostBuilt));
    return;
  }
  if (tail === 'host.html') {
    const html = await readFile(HOST_PAGE).catch(() => undefined);
    if (!html) return sendError(res, 404, 'dist/views/host.html is not built (npm run build)', BASE_HEADERS);
    res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    return;
  }
  sendError(res, 404, 'Not found', BASE_HEADERS);
}

/** Listen on 127.0.0.1 with a fresh token. */
export async function startUiServer(o: UiOptions): Promise<UiServer> {
  const token = randomBytes(24).toString('base64url');
  let port = 0;
  const sessions: Sessions = new Map();
  const http: Server = createServer((req, res) => {
    route(req, res, o, token, port, sessions).catch((err: unknown) => {
      sendError(res, 500, `Internal error: ${err instanceof Error ? err.message : String(err)}`, BASE_HEADERS);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, '127.0.0.1', () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${token}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions.values()) s.close();
        sessions.clear();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** How `ui --sandbox` finds the gateway of the `serve --sandbox` whose jobs it shows. */
export const UI_SANDBOX_HOW =
  'start serve with a fixed gateway port (MEDIAGEN_SANDBOX_PORT=N mediagen-mcp serve --sandbox) and run ui with the same MEDIAGEN_SANDBOX_PORT=N';

/**
 * `ui --sandbox` never starts a gateway of its own: the sandbox jobs live in the gateway `serve --sandbox`
 * runs (jobs_get and jobs_cancel ask it), on the port MEDIAGEN_SANDBOX_PORT names. No port, or nothing
 * answering there: a StartupError saying how.
 */
export async function sandboxGateway(config: Config): Promise<AppOptions> {
  if (!config.sandbox) return {};
  if (!config.sandboxPort)
    throw new StartupError(`ui --sandbox needs the port of the running serve's sandbox gateway: ${UI_SANDBOX_HOW}`);
  const url = `http://127.0.0.1:${config.sandboxPort}`;
  const { basePath, DEFAULT_KEY } = await import('../sandbox/index.js');
  const answered = await fetch(`${url}/`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!answered) throw new StartupError(`ui --sandbox: no sandbox gateway answers on ${url}: ${UI_SANDBOX_HOW}`);
  return {
    override: (cat) => ({ baseUrl: `${url}/${cat.provider}${basePath(cat.baseUrl.default)}`, key: DEFAULT_KEY }),
  };
}

/** The `ui` command: open the store, serve until SIGINT or SIGTERM, close. Resolves with the exit code. */
export async function runUi(config: Config, logger: Logger): Promise<number> {
  const opts = await sandboxGateway(config);
  const app = await createApp(config, logger, opts);
  try {
    const ui = await startUiServer({ app, port: config.uiPort, callerId: `ui:${process.pid}` });
    process.stderr.write(
      `mediagen-mcp ui: open ${ui.url} (gallery and spend of ${config.databaseUrl ? 'DATABASE_URL' : config.stateDir}; this address works until you stop it; Ctrl-C to stop)\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await ui.close();
  } finally {
    await app.close();
  }
  return 0;
}
