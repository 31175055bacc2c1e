/**
 * HTTP client for one provider: an undici Agent with connection limits and header/body timeouts, an
 * overall deadline per request, the provider's shared rate limit, and undici's retry for safe requests
 * only (status polls, balances, lists). A paid create is sent exactly once.
 */
import type { Agent, Dispatcher } from 'undici';
import type { Catalogue, Operation } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';
import type { Logger } from '../log.js';
import { redactor } from '../log.js';
import { requestKey, requestSecrets } from '../request-keys.js';
import { extraHeaders, type HeaderValues } from './extra-headers.js';
import { buildRequest, interpret, jobRequest, type Interpreted, type WireRequest } from './envelope.js';
import { RateLimiter, type Limiter, type RateLimit } from './rate-limit.js';

export interface HttpSettings {
  /** Overall deadline for one request, connect to last body byte. */
  timeoutMs: number;
  connectTimeoutMs: number;
  connections: number;
  /** Retries of safe requests on 429/502/503/504 and network errors. */
  safeRetries: number;
}

export const DEFAULT_HTTP: HttpSettings = {
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  connections: 8,
  safeRetries: 2,
};

export interface ProviderSettings {
  baseUrl: string;
  key?: string;
  /** Every secret this server knows (all providers' keys): scrubbed from provider answers. */
  secrets?: readonly string[];
  /** Values of the catalogue's header variables (per-engine keys), by variable name. */
  headerValues?: HeaderValues;
}

export interface CallOptions {
  /** Safe to repeat (no charge, no side effect): enables retries. */
  safe: boolean;
  signal?: AbortSignal;
  /**
   * Once the request is dispatched, ignore `signal` and run to the answer or the deadline: a paid create
   * that the caller abandons must still be answered, or its outcome would be unknown.
   */
  detach?: boolean;
  /**
   * A background worker's request (a status poll nobody waits for): it yields to foreground calls under the
   * provider's shared rate limit.
   */
  background?: boolean;
  /**
   * The request is for a job created with a per-request key (--byok): only the current request's own key
   * may be sent, never the server's; NOT_CONFIGURED (nothing sent) without one.
   */
  ownKeyOnly?: boolean;
  /**
   * The request is for a job created with the server's key: only the server's key is sent, even when the
   * current request carries its own for this provider (a job is polled and cancelled by the account that
   * created it).
   */
  serverKeyOnly?: boolean;
  /**
   * A free read nobody must wait for (the balance a quote shows): sent only if the rate limit has a start
   * free now at background priority; otherwise RATE_LIMITED with nothing sent.
   */
  noWait?: boolean;
}

/** undici is imported on the first provider request, not at start-up (it costs ~100 ms to load). */
let undici: Promise<typeof import('undici')> | undefined;
const loadUndici = (): Promise<typeof import('undici')> => (undici ??= import('undici'));

/** Failures that happen before a request can have reached the provider. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const RETRY_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
];

export class ProviderClient {
  readonly provider: string;
  private dispatchers?: Promise<{ agent: Agent; retrying: Dispatcher }>;
  private readonly limiter?: Limiter;
  private readonly redact: (s: string) => string;
  private readonly base: string;
  private readonly root: string;

  constructor(
    private readonly cat: Catalogue,
    private readonly settings: ProviderSettings,
    private readonly http: HttpSettings = DEFAULT_HTTP,
    private readonly log?: Logger,
    /** The provider's rate limit (the registry's, shared through the store); this process's own when unset. */
    limiter?: Limiter,
    /** The rate limit of a request's own key (--byok): its own bucket, never the server key's. */
    private readonly ownLimiter?: (key: string) => Limiter | undefined,
  ) {
    this.provider = cat.provider;
    this.base = settings.baseUrl.replace(/\/+$/, '');
    const rootPath = cat.baseUrl.rootPath?.replace(/\/+$/, '');
    this.root = rootPath && this.base.endsWith(rootPath) ? this.base.slice(0, -rootPath.length) : this.base;
    if (cat.rateLimit) this.limiter = limiter ?? new RateLimiter(cat.rateLimit);
    this.redact = redactor([
      ...(settings.key ? [settings.key] : []),
      ...(settings.secrets ?? []),
      ...Object.values(settings.headerValues ?? {}).filter((v): v is string => Boolean(v)),
    ]);
  }

  /** The Agent (and its retrying wrapper for safe requests), made on the first request. */
  private connect(): Promise<{ agent: Agent; retrying: Dispatcher }> {
    const http = this.http;
    return (this.dispatchers ??= loadUndici().then(({ Agent, RetryAgent }) => {
      const agent = new Agent({
        connections: http.connections,
        connectTimeout: http.connectTimeoutMs,
        headersTimeout: http.timeoutMs,
        bodyTimeout: http.timeoutMs,
      });
      const retrying = new RetryAgent(agent, {
        maxRetries: http.safeRetries,
        minTimeout: 500,
        maxTimeout: 5_000,
        timeoutFactor: 2,
        retryAfter: true,
        methods: ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE'],
        statusCodes: [429, 502, 503, 504],
        errorCodes: RETRY_CODES,
        throwOnError: false,
      });
      return { agent, retrying };
    }));
  }

  /** The rate limit this client keeps to (the catalogue's, or `--rate-limit`'s); undefined when off. */
  get rateLimit(): RateLimit | undefined {
    return this.cat.rateLimit;
  }

  get configured(): boolean {
    return Boolean(this.settings.key);
  }

  /** The current request's own key for this provider (X-Mediagen-Key-<Provider>, --byok), if it sent one. */
  get requestKey(): string | undefined {
    return requestKey(this.provider);
  }

  /** This client's redactor plus the current request's own keys. */
  private redactNow(): (s: string) => string {
    const own = requestSecrets();
    if (!own.length) return this.redact;
    const more = redactor(own);
    return (s) => more(this.redact(s));
  }

  /** Call a catalogue operation with validated, defaults-applied arguments. */
  call(op: Operation, args: Readonly<Record<string, unknown>>, opts: CallOptions): Promise<Interpreted> {
    const extra = this.extraHeaders(op, args);
    return this.send(buildRequest(this.cat, op, args), { ...opts, auth: op.auth, root: op.baseUrl === 'root', extra });
  }

  /** The catalogue headers this call sends; NOT_CONFIGURED (naming the variable) when a required one is unset. */
  extraHeaders(op: Operation, args: Readonly<Record<string, unknown>>): Record<string, string> {
    return extraHeaders(this.cat, op, args, this.settings.headerValues ?? {});
  }

  /** Call a job route (status or cancel) for a provider job id. */
  callJobRoute(
    route: { method: string; path: string },
    providerJobId: string,
    opts: CallOptions,
  ): Promise<Interpreted> {
    return this.send(jobRequest(route, providerJobId), { ...opts, auth: true });
  }

  private headers(auth: boolean, hasBody: boolean, opts: CallOptions): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'mediagen-mcp' };
    if (hasBody) h['content-type'] = 'application/json';
    if (!auth) return h;
    // A request's own key (--byok) goes before the server's, for this request only.
    const own = opts.serverKeyOnly ? undefined : requestKey(this.provider);
    if (opts.ownKeyOnly && !own)
      throw new MediagenError(
        'NOT_CONFIGURED',
        `This ${this.provider} job was created with your own key: send it again in X-Mediagen-Key-${this.provider}. Nothing was sent.`,
        { provider: this.provider, sent: false },
      );
    const key = own ?? this.settings.key;
    if (!key)
      throw new MediagenError(
        'NOT_CONFIGURED',
        `${this.provider} has no API key (${this.cat.auth.env}) on this server; where the server runs with --byok, send your own in X-Mediagen-Key-${this.provider}.`,
        { provider: this.provider, sent: false },
      );
    if (this.cat.auth.type === 'bearer') h.authorization = `Bearer ${key}`;
    else h[this.cat.auth.name.toLowerCase()] = key;
    return h;
  }

  async send(
    req: WireRequest,
    opts: CallOptions & { auth: boolean; root?: boolean; extra?: Record<string, string> },
  ): Promise<Interpreted> {
    const headers = { ...opts.extra, ...this.headers(opts.auth, req.body !== undefined, opts) };
    // The rate limit follows the key actually sent: a request's own key counts in its own bucket.
    const own = opts.auth && !opts.serverKeyOnly ? requestKey(this.provider) : undefined;
    const limiter = own === undefined ? this.limiter : this.cat.rateLimit && this.ownLimiter?.(own);
    const redact = this.redactNow();
    // The deadline's timer is held here and cleared below (a bare AbortSignal.timeout inside
    // AbortSignal.any can be garbage-collected and never fire).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException('deadline', 'TimeoutError')), this.http.timeoutMs);
    const both = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
    const url = (opts.root ? this.root : this.base) + req.path;
    const started = Date.now();
    let dispatched = false;
    try {
      const [{ request }, { agent, retrying }] = await Promise.all([loadUndici(), this.connect()]);
      if (opts.noWait && limiter && !(await limiter.tryAcquire()))
        throw new MediagenError('RATE_LIMITED', `${this.provider}'s rate limit is busy; the request was not sent.`, {
          provider: this.provider,
          sent: false,
        });
      if (!opts.noWait && limiter) await limiter.acquire(both, opts.background);
      dispatched = true;
      const res = await request(url, {
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: req.body,
        signal: opts.detach ? deadline.signal : both,
        dispatcher: opts.safe ? retrying : agent,
      });
      const text = redact(await res.body.text());
      const retryAfter = res.headers['retry-after'];
      this.log?.debug('provider request', {
        provider: this.provider,
        method: req.method,
        path: req.path.split('?')[0],
        status: res.statusCode,
        ms: Date.now() - started,
      });
      return interpret(this.cat, res.statusCode, text, redact, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    } catch (err) {
      throw this.toError(err, deadline.signal, dispatched, opts.detach ? undefined : opts.signal, redact);
    } finally {
      clearTimeout(timer);
    }
  }

  private toError(
    err: unknown,
    deadline: AbortSignal,
    dispatched: boolean,
    caller: AbortSignal | undefined,
    redact: (s: string) => string,
  ): MediagenError {
    if (err instanceof MediagenError) return err;
    const e = err as { code?: string; name?: string; message?: string };
    const p = this.provider;
    const sent = dispatched && !NOT_SENT.has(e.code ?? '');
    if (caller?.aborted)
      return new MediagenError('INTERNAL', `Request to ${p} was cancelled by the caller.`, {
        provider: p,
        cancelled: true,
        sent,
      });
    const timedOut =
      deadline.aborted ||
      e.name === 'TimeoutError' ||
      e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
      e.code === 'UND_ERR_BODY_TIMEOUT' ||
      e.code === 'UND_ERR_CONNECT_TIMEOUT';
    if (timedOut)
      return new MediagenError('PROVIDER_TIMEOUT', `${p} did not answer within ${this.http.timeoutMs} ms.`, {
        provider: p,
        sent,
        hint: 'For a paid create this is uncertain: the provider may have accepted the job.',
      });
    const what = redact(e.code ?? e.name ?? 'error');
    this.log?.warn('provider request failed', { provider: p, error: what, message: redact(e.message ?? '') });
    return new MediagenError('PROVIDER_HTTP', `Could not reach ${p} (${what}).`, { provider: p, sent });
  }

  /** Close the connections; with `force`, abort requests still in flight (shutdown past its deadline). */
  async close(force = false): Promise<void> {
    const d = this.dispatchers;
    this.dispatchers = undefined;
    if (!d) return;
    const { agent } = await d;
    if (force) await agent.destroy();
    else await agent.close();
  }
}
/** The client of a provider, or NOT_CONFIGURED when this server has none for it. */
export function clientFor(clients: ReadonlyMap<string, ProviderClient>, provider: string): ProviderClient {
  const c = clients.get(provider);
  if (!c) throw new MediagenError('NOT_CONFIGURED', `${provider} is not configured on this server.`);
  return c;
}
