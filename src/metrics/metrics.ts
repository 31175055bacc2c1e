/**
 * The operator's metrics (GET /metrics, Prometheus text format, prom-client): one Registry per process
 * (never prom-client's global default, so several servers can live in one process). Counters move where
 * things happen (tool calls, paid provider requests, HTTP answers, store calls); money and jobs are read
 * from the store at scrape time, so they are exact across restarts and across replicas of one store.
 * No label carries a principal, a token, a key or a client-chosen string: tool and provider names come
 * from the loaded catalogues, outcomes from the error codes.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MediagenError } from '../errors.js';
import { outcomeOf } from '../tools/paid-outcome.js';
import { RESERVATION_STATES, type SpendTotals, type Store } from '../store/store.js';

interface Snapshot {
  totals: SpendTotals[];
  open: Record<string, number>;
  /** Undefined: this process runs no worker. */
  lagSeconds: number | undefined;
}

/** Which jobs this process's worker leases (jobs/worker.ts pollFilter): its lag is theirs only. */
export interface PollFilter {
  providers?: readonly string[];
  principals?: readonly string[];
  exclude?: readonly string[];
}

/** A scrape's store read gives up after this long (the scrape then says mediagen_store_up 0). */
export const READ_TIMEOUT_MS = 3_000;

export interface MetricsOptions {
  now?: () => number;
  /** Default READ_TIMEOUT_MS. */
  readTimeoutMs?: number;
}

/** An error answer's code as a label value (never free text): its structuredContent.code, else ERROR. */
export function outcomeLabel(result: { structuredContent?: Record<string, unknown> }): string {
  const code = result.structuredContent?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : 'ERROR';
}

/**
 * Did a failed paid request leave this process? A refusal raised before anything was sent (no key, the
 * rate limiter, a bad argument) is no provider request at all.
 */
function wasSent(err: unknown): boolean {
  if (!(err instanceof MediagenError)) return true;
  const d = err.details;
  if (d.sent === false) return false;
  if (typeof d.httpStatus === 'number' || d.providerCode !== undefined) return true;
  return !['NOT_CONFIGURED', 'BAD_ARGUMENTS', 'RATE_LIMITED'].includes(err.code);
}

/** Paths of the HTTP server -> route labels (anything else: `other`, so no client text becomes a label). */
const ROUTES: readonly (readonly [string, string])[] = [
  ['/mcp', 'mcp'],
  ['/healthz', 'healthz'],
  ['/readyz', 'readyz'],
  ['/metrics', 'metrics'],
  ['/hooks/', 'hooks'],
  ['/.well-known/', 'well-known'],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly toolCalls = new Counter({
    name: 'mediagen_tool_calls_total',
    help: 'tools/call answers by tool and outcome (ok, or the error code of the answer)',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly providerRequests = new Counter({
    name: 'mediagen_provider_requests_total',
    help: 'Paid provider requests sent, by provider and outcome class (accepted, refused, unknown)',
    labelNames: ['provider', 'class'] as const,
    registers: [this.registry],
  });
  private readonly httpRequests = new Counter({
    name: 'mediagen_http_requests_total',
    help: 'HTTP answers by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly storeSeconds = new Histogram({
    name: 'mediagen_store_call_seconds',
    help: 'Store calls by method and result (ok, error), in seconds',
    labelNames: ['method', 'result'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private stores: Store[] = [];
  private polls: (() => PollFilter) | undefined;
  private reads: Promise<Snapshot | undefined> | undefined;
  private readonly now: () => number;
  private readonly readTimeoutMs: number;

  constructor(opts: MetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS;
    // One read of the store per scrape, shared by the gauges below (prom-client collects them at once).
    let reading: Promise<Snapshot | undefined> | undefined;
    const snapshot = (): Promise<Snapshot | undefined> =>
      (reading ??= this.read().finally(() => (reading = undefined)));
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Snapshot) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          this.reset();
          const snap = await snapshot();
          if (snap) fill(this, snap);
        },
      });
    new Gauge({
      name: 'mediagen_store_up',
      help: 'Whether this scrape could read the store (1) or not (0: the gauges read from it are absent)',
      registers: [this.registry],
      async collect() {
        this.set((await snapshot()) ? 1 : 0);
      },
    });
    gauge(
      'mediagen_credits',
      'Credits in the spend ledger by provider and reservation state (read from the store at scrape time)',
      ['provider', 'state'],
      (g, s) => {
        for (const t of s.totals)
          for (const state of RESERVATION_STATES) g.set({ provider: t.provider, state }, t[state]);
      },
    );
    gauge(
      'mediagen_open_jobs',
      'Jobs not final yet, by status (read from the store at scrape time)',
      ['status'],
      (g, s) => {
        for (const status of ['pending', 'running']) g.set({ status }, s.open[status] ?? 0);
      },
    );
    // Unlabelled, so prom-client would show 0 when unset: its sample is dropped when there is no value
    // (no worker in this process, or the store could not be read).
    let lag: number | undefined;
    new (class extends Gauge {
      override async get() {
        const got = await super.get();
        return lag === undefined ? { ...got, values: [] } : got;
      }
    })({
      name: 'mediagen_worker_lag_seconds',
      help: "How long the job most overdue for this process's worker has waited: 0 when none is overdue (absent without a worker)",
      registers: [this.registry],
      async collect() {
        lag = (await snapshot())?.lagSeconds;
        this.set(lag ?? 0);
      },
    });
  }

  /**
   * The store's part of a scrape; undefined when it cannot be read within readTimeoutMs (the scrape still
   * answers). The worker's lag is over the jobs it leases only (its providers, principals, skipped jobs).
   */
  private async read(): Promise<Snapshot | undefined> {
    const store = this.stores[0];
    if (!store) return undefined;
    const f = this.polls?.();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.readTimeoutMs);
    });
    // A read that outlived an earlier scrape's bound is awaited again, not started beside it: hanging
    // reads never pile up on the store's connections.
    const reads = (this.reads ??= Promise.all([
      store.spendTotals({}),
      store.openJobCounts(),
      f ? store.nextDueAt(f.providers, f.principals, f.exclude) : undefined,
    ])
      .then(
        ([totals, open, due]): Snapshot => ({
          totals,
          open,
          lagSeconds: !f ? undefined : due === undefined ? 0 : Math.max(0, (this.now() - due) / 1000),
        }),
        () => undefined,
      )
      .finally(() => (this.reads = undefined)));
    try {
      return await Promise.race([reads, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** This process's worker: the lag gauge reads the jobs `filter` names (the ones it leases). */
  pollsFor(filter: () => PollFilter): void {
    this.polls = filter;
  }

  /** The store the scrape-time gauges read (the process's one store). */
  watch(store: Store): void {
    this.stores = [store];
  }

  toolCall(tool: string, outcome: string): void {
    this.toolCalls.inc({ tool, outcome });
  }

  /** A paid request the provider answered: accepted, or unknown (an answer without a usable job id). */
  providerAnswered(provider: string, cls: 'accepted' | 'unknown'): void {
    this.providerRequests.inc({ provider, class: cls });
  }

  /** A paid request that failed: refused or unknown (paid-outcome.ts); not counted when nothing was sent. */
  providerFailed(provider: string, err: unknown): void {
    if (wasSent(err)) this.providerRequests.inc({ provider, class: outcomeOf(err) });
  }

  /** Count this HTTP request's answer by its route (a fixed name) and status, once it is sent. */
  httpAnswer(path: string, res: { statusCode: number; once(e: 'finish', f: () => void): unknown }): void {
    const route = ROUTES.find(([p]) => path === p || (p.endsWith('/') && path.startsWith(p)))?.[1] ?? 'other';
    res.once('finish', () => this.httpRequests.inc({ route, status: String(res.statusCode) }));
  }

  storeCall(method: string, seconds: number, ok: boolean): void {
    this.storeSeconds.observe({ method, result: ok ? 'ok' : 'error' }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
