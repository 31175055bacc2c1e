/**
 * The sandbox gateway: a loopback HTTP server that imitates each provider's real wire format, so every
 * tool can be tried with no key and no spend, and what the tests run against (DESIGN.md §9).
 *
 *   /<provider>/...     provider wire modules (mediaio, phaya, ph0ny); counted in the stats
 *   /_media/<name>      sample.png, sample.wav, sample.mp4 and the preview test files (media.ts); not counted
 *   /_media/drip/<name> the same, 1 byte a second; /_media/huge/<name>: 5 GiB declared (download-guard tests)
 *   GET /_sandbox/stats the SandboxStats JSON; POST /_sandbox/reset zeroes counters and forgets jobs
 *   GET /               a short JSON description of the above
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerFaults, applyAnswerFaults } from './answer-faults.js';
import { loggedBody, parseJsonBody, readBody, sendFile, sendJson, sendReply } from './http.js';
import { findFaultsIn, resultUrl, type Fault } from './faults.js';
import { JobStore, type Job } from './jobs.js';
import { ALL_MEDIA, mediaFile, mediaName, sendVariant, type MediaKind, type MediaVariant } from './media.js';
import { mediaio } from './mediaio.js';
import { ph0ny } from './ph0ny.js';
import { phaya } from './phaya.js';
import { StatsRecorder, UNKNOWN_PROVIDER, type SandboxStats } from './stats.js';
import type { ParsedRequest, ProviderModule, Reply, SandboxContext } from './types.js';

export type { SandboxRequest, SandboxStats } from './stats.js';
export type { ProviderModule, ParsedRequest, Reply, SandboxContext } from './types.js';
export { FAULTS, type Fault } from './faults.js';

export interface SandboxOptions {
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** Port; default 0 (a free port). */
  port?: number;
  /** The one API key the sandbox accepts for every provider; default 'sandbox-key'. */
  key?: string;
  /** Status polls before a job is done; default 3 (waiting, processing, completed). */
  pollsToComplete?: number;
  /** How long a `sandbox:slow` request stalls before answering (and `sandbox:late` delays); default 15000. */
  slowMs?: number;
  /** Every answer echoes the caller's auth header (a careless provider), for redaction tests. */
  echoKey?: boolean;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:43123 (no trailing slash). */
  url: string;
  key: string;
  /** url + '/' + provider + the path of defaultBase without a trailing slash. */
  baseUrl(provider: string, defaultBase: string): string;
  /** Counts only provider requests (not /_sandbox/*, not /_media/*). */
  stats(): SandboxStats;
  /** What the sandbox remembers of one of its jobs (a copy; no poll is counted), e.g. `meta.webhookUrl`. */
  job(provider: string, id: string): Job | undefined;
  /** Zero the counters and forget all jobs. */
  reset(): void;
  /** Close the server, cutting any stalled (slow) request. */
  close(): Promise<void>;
}

export const DEFAULT_KEY = 'sandbox-key';

/** Provider wire modules, by URL prefix. */
const PROVIDERS: readonly ProviderModule[] = [mediaio, phaya, ph0ny];

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const key = opts.key ?? DEFAULT_KEY;
  const pollsToComplete = opts.pollsToComplete ?? 3;
  const slowMs = opts.slowMs ?? 15000;
  if (!Number.isInteger(pollsToComplete) || pollsToComplete < 1) {
    throw new RangeError(`sandbox: pollsToComplete must be an integer >= 1, got ${pollsToComplete}`);
  }
  if (!Number.isFinite(slowMs) || slowMs < 0) throw new RangeError(`sandbox: slowMs must be >= 0, got ${slowMs}`);
  if (key === '') throw new RangeError('sandbox: key must not be empty');

  const stats = new StatsRecorder();
  const jobs = new JobStore(pollsToComplete);
  const modules = new Map(PROVIDERS.map((p) => [p.name, p]));
  /** Wake-ups of stalled requests, fired with `false` when the sandbox closes. */
  const stalls = new Set<(alive: boolean) => void>();
  let url = '';
  let closed = false;
  let closing: Promise<void> | undefined;

  const baseCtx = {
    key,
    pollsToComplete,
    slowMs,
    jobs,
    traceId: () => randomUUID(),
    mediaUrl: (kind: MediaKind, job?: Job) => {
      const faults = job ? findFaultsIn(job.meta.inputs) : new Set<Fault>();
      return resultUrl(url, mediaName(kind, faults), faults);
    },
  };

  function stallFor(res: ServerResponse): (ms: number) => Promise<boolean> {
    return (ms) =>
      new Promise<boolean>((resolve) => {
        if (closed || res.destroyed) return resolve(false);
        const done = (alive: boolean): void => {
          clearTimeout(timer);
          res.off('close', onClose);
          stalls.delete(done);
          resolve(alive && !closed && !res.destroyed);
        };
        const onClose = (): void => done(false);
        const timer = setTimeout(() => done(true), ms);
        res.once('close', onClose);
        stalls.add(done);
      });
  }

  async function handleProvider(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    search: string,
    query: URLSearchParams,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const segment = pathname.split('/')[1] ?? '';
    const module = modules.get(segment);
    const subPath = module ? pathname.slice(segment.length + 1) || '/' : pathname;
    const info = module ? module.inspect(method, subPath, req.headers, key) : undefined;
    const body = await readBody(req);
    const parsed = body.ok ? parseJsonBody(body.raw) : ({ kind: 'empty' } as const);
    stats.record(
      {
        provider: module ? module.name : UNKNOWN_PROVIDER,
        method,
        path: pathname + search,
        body: loggedBody(parsed),
        at: Date.now(),
        authorized: info?.authorized ?? false,
      },
      info?.route,
    );
    if (!body.ok) {
      if (body.reason === 'too-large') {
        sendJson(res, 413, { code: 413, msg: 'Payload Too Large', data: {} }, { Connection: 'close' });
      }
      return;
    }
    if (!module || !info) {
      sendJson(res, 404, { code: 404, msg: 'Not Found', data: {}, detail: `no sandbox provider at /${segment}` });
      return;
    }
    const request: ParsedRequest = {
      method,
      path: subPath,
      query,
      headers: req.headers,
      body: parsed,
      route: info.route,
      authorized: info.authorized,
    };
    const ctx: SandboxContext = { ...baseCtx, url, stall: stallFor(res) };
    let reply: Reply;
    try {
      reply = await module.handle(request, ctx);
      reply = await applyAnswerFaults(reply, answerFaults(parsed), {
        echoKey: opts.echoKey ?? false,
        headers: req.headers,
        slowMs,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      reply = { status: 500, json: { code: 500, msg: 'sandbox internal error', data: {}, detail: message } };
    }
    sendReply(res, reply, method === 'HEAD');
  }

  async function handleInternal(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    req.resume();
    const variant = /^\/_media\/(drip|huge)\/([^/]+)$/.exec(pathname);
    if (variant) {
      const file = await mediaFile(variant[2]);
      if (!file) return sendJson(res, 404, { error: 'Not Found' });
      if (method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { Allow: 'GET' });
      return sendVariant(res, file, variant[1] as MediaVariant);
    }
    if (pathname.startsWith('/_media/')) {
      const file = await mediaFile(pathname.slice('/_media/'.length));
      if (!file) return sendJson(res, 404, { error: 'Not Found' });
      if (method !== 'GET' && method !== 'HEAD')
        return sendJson(res, 405, { error: 'Method Not Allowed' }, { Allow: 'GET, HEAD' });
      return sendFile(res, file, method === 'HEAD');
    }
    if (pathname === '/_sandbox/stats') {
      if (method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { Allow: 'GET' });
      return sendJson(res, 200, stats.snapshot(jobs.size()));
    }
    if (pathname === '/_sandbox/reset') {
      if (method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' }, { Allow: 'POST' });
      reset();
      return sendJson(res, 200, { ok: true });
    }
    if (pathname === '/') {
      return sendJson(res, 200, {
        name: 'mediagen-mcp sandbox',
        key,
        providers: PROVIDERS.map((p) => ({ name: p.name, base: `${url}/${p.name}` })),
        media: ALL_MEDIA.map((n) => `${url}/_media/${n}`),
        endpoints: { stats: `GET ${url}/_sandbox/stats`, reset: `POST ${url}/_sandbox/reset` },
      });
    }
    sendJson(res, 404, { error: 'Not Found' });
  }

  function reset(): void {
    stats.reset();
    jobs.clear();
  }

  const server = createServer((req, res) => {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      req.resume();
      return sendJson(res, 400, { error: 'Bad Request' });
    }
    const { pathname, search, searchParams } = parsedUrl;
    if (
      pathname === '/' ||
      pathname.startsWith('/_media/') ||
      pathname.startsWith('/_sandbox/') ||
      pathname === '/_sandbox'
    ) {
      return void handleInternal(req, res, pathname).catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        sendJson(res, 500, { error: 'sandbox internal error', detail: message });
      });
    }
    handleProvider(req, res, pathname, search, searchParams).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      sendJson(res, 500, { error: 'sandbox internal error', detail: message });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  url = `http://${urlHost(address.address)}:${address.port}`;

  return {
    url,
    key,
    baseUrl: (provider, defaultBase) => `${url}/${provider}${basePath(defaultBase)}`,
    stats: () => stats.snapshot(jobs.size()),
    job: (provider, id) => {
      const j = jobs.get(provider, id);
      return j && structuredClone(j);
    },
    reset,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const wake of [...stalls]) wake(false);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The path part of a provider's default base URL, without a trailing slash ('' for a bare host). */
export function basePath(defaultBase: string): string {
  let path: string;
  try {
    path = new URL(defaultBase).pathname;
  } catch {
    path = defaultBase.startsWith('/') ? defaultBase : '';
  }
  return path.replace(/\/+$/, '');
}

/** A host usable in a URL: wildcard addresses become loopback, IPv6 gets brackets. */
function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
