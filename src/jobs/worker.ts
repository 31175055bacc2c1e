/**
 * The background worker: jobs finish with nobody waiting. A loop leases due jobs from the store (one
 * poller per job across processes and replicas: the lease is on the job row), polls each through its
 * principal's ledger with bounded concurrency, and gives the lease back with the next poll time
 * (schedule.ts). Foreground polls go first: every poll writes the next poll time, so a caller waiting on
 * a job holds the worker off it.
 *
 * - Open: polled at its operation's interval; after errors with exponential backoff (up to 10 min).
 * - Past its time limit: polled at a slow rate and never refunded on our clock; 48 h later given up.
 * - Failed: refunded by the ledger's onFailed, as a caller's poll would; counted here. A failed job stays
 *   due until its refund is made: a refund that failed (the store was busy or down) is retried here.
 * - Succeeded with outputs to keep: `keepOutputs`, its lease renewed while it runs, retried with backoff
 *   (up to 10 min) for KEEP_HORIZON_MS after the job finished; then each output not kept says why.
 * - Only jobs of `principals` and `providers` are leased (what this process can poll). One leased anyway
 *   that it cannot poll (no key for it, a tool no longer in the catalogue) is given back due as it was and
 *   not leased here again for UNPOLLABLE_MS; its 48 h give-up still applies.
 *
 * stop() aborts the polls in flight, waits for them (bounded) and gives back every lease it still holds
 * with the next poll time unchanged, so another worker takes the jobs at once.
 */
import { isStoreUnavailable } from '../store/outage.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { JobRecord, Store } from '../store/store.js';
import { MAX_BACKOFF_MS } from './schedule.js';
import {
  errorText,
  giveBack,
  runLeased,
  UNPOLLABLE_MS,
  type Poller,
  type RunContext,
  type WorkerStats,
} from './worker-job.js';

export type { Poller, WorkerStats } from './worker-job.js';
export { KEEP_HORIZON_MS, RATE_WAIT_MS, UNPOLLABLE_MS } from './worker-job.js';

export interface WorkerOptions {
  store: Store;
  logger: Logger;
  now?: () => number;
  /** This worker's lease owner; default `<host>:<pid>:<8 random hex>`. */
  owner?: string;
  concurrency: number;
  /** The poller of a job (by its principal); undefined: this process cannot poll it. */
  pollerFor: (job: JobRecord) => Poller | undefined;
  /** Only jobs of these providers are leased (the ones with a configured client); all when unset. */
  providers?: readonly string[];
  /** Only jobs of these principals are leased (the ones this process can poll for); all when unset. */
  principals?: readonly string[];
  /** How long a lease lasts (default 60 s); a worker that dies loses its jobs when it runs out. */
  leaseMs?: number;
  /** Overrides the catalogue's pollSeconds (sandbox 250 ms, MEDIAGEN_POLL_MS). */
  intervalMs?: number;
  /** The longest sleep between lease rounds (default 5 s). */
  idleMs?: number;
}

/** stop() waits this long for the polls in flight to end. */
export const STOP_MS = 3_000;
/** The shortest sleep when jobs are due but none could be leased (held by another worker). */
export const BUSY_SLEEP_MS = 200;
/** The sleep after the store failed to lease. */
const STORE_RETRY_MS = 2_000;
/** The most jobs skipped as unpollable at once (the oldest forgotten first). */
const SKIPPED_KEPT = 200;

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class Worker {
  private readonly o: Required<Omit<WorkerOptions, 'providers' | 'principals' | 'intervalMs'>> &
    Pick<WorkerOptions, 'providers' | 'principals' | 'intervalMs'>;
  private readonly abort = new AbortController();
  /** Leased jobs not yet given back, by id (the record as leased). */
  private readonly held = new Map<string, JobRecord>();
  /** Jobs found unpollable here, not leased again until the time given. */
  private readonly skipped = new Map<string, number>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly counts: WorkerStats;
  private readonly run: RunContext;
  private loop?: Promise<void>;
  private stopping?: Promise<void>;
  private woken = false;
  private wakeSleep?: () => void;
  private storeDown = false;

  constructor(opts: WorkerOptions) {
    this.o = {
      ...opts,
      now: opts.now ?? Date.now,
      owner: opts.owner ?? defaultOwner(),
      leaseMs: opts.leaseMs ?? 60_000,
      idleMs: opts.idleMs ?? 5_000,
      concurrency: Math.max(1, Math.floor(opts.concurrency)),
    };
    const zero = { polls: 0, errors: 0, succeeded: 0, failed: 0, refunded: 0, refundedCredits: 0 };
    this.counts = { since: this.o.now(), ...zero, timedOut: 0, gaveUp: 0, kept: 0 };
    this.run = {
      store: this.o.store,
      logger: this.o.logger,
      now: this.o.now,
      intervalMs: this.o.intervalMs,
      leaseMs: this.o.leaseMs,
      stop: this.abort.signal,
      counts: this.counts,
      release: (job, next, errors) => this.release(job, next, errors),
      renew: (job, until) => this.o.store.renewLease(job.id, this.o.owner, until),
      skip: (job) => this.skip(job.id),
    };
  }

  get owner(): string {
    return this.o.owner;
  }

  start(): void {
    if (this.loop || this.abort.signal.aborted) return;
    this.counts.since = this.o.now();
    this.loop = this.rounds();
  }

  /** End the current sleep at once (a webhook hint, a new job). */
  wake(): void {
    this.woken = true;
    this.wakeSleep?.();
  }

  /** The jobs this worker leases: its providers and principals, less the ones skipped as unpollable. */
  pollFilter(): { providers?: readonly string[]; principals?: readonly string[]; exclude?: readonly string[] } {
    return { providers: this.o.providers, principals: this.o.principals, exclude: this.excluded() };
  }

  stats(): WorkerStats {
    return { ...this.counts };
  }

  /** Abort the polls in flight, wait for them (bounded) and give back every lease still held. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      this.abort.abort(new DOMException('the worker is stopping', 'AbortError'));
      this.wake();
      await this.loop;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, STOP_MS)));
      await Promise.race([Promise.allSettled([...this.tasks]), late]);
      clearTimeout(timer);
      await Promise.allSettled([...this.held.values()].map((job) => giveBack(job, this.run)));
    })());
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async rounds(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      const free = this.o.concurrency - this.tasks.size;
      let leased = 0;
      if (free > 0) {
        const jobs = await this.lease(free);
        if (jobs === undefined) {
          await this.sleep(STORE_RETRY_MS);
          continue;
        }
        leased = jobs.length;
        for (const job of jobs) this.track(job);
        if (leased === free) continue; // more may be due: lease again once a slot frees (or at once)
      }
      if (this.stopped) break;
      if (free <= 0) {
        await this.sleep(this.o.idleMs); // a finished task wakes the loop
        continue;
      }
      await this.sleep(await this.untilDue());
    }
  }

  private async lease(limit: number): Promise<JobRecord[] | undefined> {
    try {
      const jobs = await this.o.store.leaseDueJobs({
        owner: this.o.owner,
        now: this.o.now(),
        leaseMs: this.o.leaseMs,
        limit,
        providers: this.o.providers,
        principals: this.o.principals,
        exclude: this.excluded(),
      });
      // The store's own watch (store/outage.ts) logs the outage once; these lines are for debugging.
      if (this.storeDown) this.o.logger.debug('worker: the store answers again');
      this.storeDown = false;
      return jobs;
    } catch (err) {
      if (!this.storeDown)
        this.o.logger[isStoreUnavailable(err) ? 'debug' : 'warn']('worker: could not lease due jobs; retrying', {
          error: errorText(err),
        });
      this.storeDown = true;
      return undefined;
    }
  }

  /** How long to sleep: until the next job is due, at most idleMs. */
  private async untilDue(): Promise<number> {
    let due: number | undefined;
    try {
      due = await this.o.store.nextDueAt(this.o.providers, this.o.principals, this.excluded());
    } catch {
      return STORE_RETRY_MS;
    }
    if (due === undefined) return this.o.idleMs;
    const ms = due - this.o.now();
    // Due but not leased: another worker holds it (its next poll time is written when it gives it back).
    return Math.min(this.o.idleMs, Math.max(BUSY_SLEEP_MS, ms));
  }

  private skip(id: string): void {
    this.skipped.delete(id);
    this.skipped.set(id, this.o.now() + UNPOLLABLE_MS);
    if (this.skipped.size > SKIPPED_KEPT) this.skipped.delete(this.skipped.keys().next().value as string);
  }

  /** The jobs skipped still (the ones whose time is up are forgotten). */
  private excluded(): string[] | undefined {
    const now = this.o.now();
    for (const [id, until] of this.skipped) if (until <= now) this.skipped.delete(id);
    return this.skipped.size > 0 ? [...this.skipped.keys()] : undefined;
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleep = done;
    });
  }

  private track(job: JobRecord): void {
    this.held.set(job.id, job);
    const task = Promise.resolve()
      .then(() => runLeased(job, this.o.pollerFor(job), this.run))
      .catch(async (err: unknown) => {
        this.o.logger.error(`worker: job ${job.id} failed unexpectedly`, { job: job.id, error: errorText(err) });
        await this.release(job, this.o.now() + MAX_BACKOFF_MS, (job.pollErrors ?? 0) + 1);
      })
      .finally(() => {
        this.tasks.delete(task);
        this.wake();
      });
    this.tasks.add(task);
  }

  private async release(job: JobRecord, next: number | null, errors: number): Promise<void> {
    if (!this.held.delete(job.id)) return; // given back already (stop)
    try {
      const held = await this.o.store.releaseLease(job.id, this.o.owner, { nextPollAt: next, errors });
      if (!held)
        this.o.logger.warn(`worker: the lease on job ${job.id} had run out before it was given back`, { job: job.id });
    } catch (err) {
      // The lease runs out by itself; the job is polled again then.
      this.o.logger.warn(`worker: could not give back the lease on job ${job.id}`, {
        job: job.id,
        error: errorText(err),
      });
    }
  }
}
