/**
 * Where GET /metrics is answered: on the HTTP server behind its own bearer token (MEDIAGEN_METRICS_TOKEN,
 * compared in constant time; never an MCP token, never OAuth), or on a port of its own bound to a loopback
 * address, without a token but only for a loopback Host (--metrics-port, beside stdio or HTTP). Anywhere
 * else /metrics does not exist.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StartupError } from '../errors.js';
import { hostName, isLoopback } from '../transports/http-guard.js';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text + '\n');
}

/** The HTTP server's bearer for /metrics, with its limiter of failed bearer attempts by client address. */
export interface MetricsAuth {
  token: string;
  /** --http-auth-fail-rate: a wrong token counts against the address, past the limit it gets 429. */
  failures?: { wait(key: string): number; take(key: string): number };
  /** The client's address key (the failures' key). */
  address: string;
}

/** Answer a scrape (GET or HEAD); `auth`: the bearer it needs (undefined: none, the loopback port). */
export function answerMetrics(metrics: Metrics, req: IncomingMessage, res: ServerResponse, auth?: MetricsAuth): void {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
  if (auth !== undefined) {
    // An address past its failed attempts is not heard at all (as on /mcp): guessing is slowed, not helped.
    const blocked = auth.failures?.wait(auth.address) ?? 0;
    if (blocked > 0)
      return plain(res, 429, `Too many failed bearer attempts from this address; retry after ${blocked} s`, {
        'Retry-After': String(blocked),
      });
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // Hashes of equal length, compared in constant time: neither the token nor its length leaks.
    if (!m || !timingSafeEqual(digest(m[1]), digest(auth.token))) {
      if (req.headers.authorization !== undefined) auth.failures?.take(auth.address);
      return plain(res, 401, 'Unauthorized: /metrics needs its own bearer token (MEDIAGEN_METRICS_TOKEN)', {
        'WWW-Authenticate': 'Bearer realm="metrics"',
      });
    }
  }
  metrics.text().then(
    (body) => {
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: unknown) => plain(res, 503, `metrics unavailable: ${err instanceof Error ? err.message : String(err)}`),
  );
}

/**
 * The loopback port answers only requests for a loopback name or its own address (with any port): a page
 * that rebinds its DNS name to 127.0.0.1 sends its own name as Host and is refused.
 */
function hostAllowed(header: string | undefined, bound: string): boolean {
  if (header === undefined) return false;
  const name = hostName(header);
  return isLoopback(name) || name === bound.toLowerCase();
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** --metrics-port: GET /metrics on a loopback address only (any other bind is refused). */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<MetricsServer> {
  const bind = host.replace(/^\[(.*)\]$/, '$1');
  if (!isLoopback(bind)) throw new StartupError(`--metrics-host ${host}: metrics are served on loopback only`);
  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, bind)) return plain(res, 403, 'Forbidden: Host not allowed');
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) return plain(res, 404, 'Not found: the metrics are at /metrics');
    answerMetrics(metrics, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind === 'localhost' ? '127.0.0.1' : bind, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}${METRICS_PATH}`,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
