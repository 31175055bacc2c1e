/**
 * The background worker: jobs finish with nobody waiting. A loop leases due jobs from the store (one
 * poller per job across processes and replicas: the lease is on the job row), polls each through its
 * principal's ledger with bounded concurrency, and gives the lease back with the next poll time
 * (schedule.ts). Foreground polls go first: every poll writes the next poll time, so a caller waiting on
 * a job holds the worker off it.
 *
 * - Open: polled at its operation's interval; after errors with exponential backoff (up to 10 min).
 * - Past its time limit: polled at a slow rate and never refunded on our clock; 48 h later given up.
 * - Failed: refunded by the ledger's onFailed, as a caller's poll would; counted here.
 * - Succeeded with outputs to keep: `keepOutputs`, retried with backoff, given up after KEEP_ATTEMPTS.
 * - Not pollable here (another principal's keys, no key for its provider, a tool no longer in the
 *   catalogue): given back for UNPOLLABLE_MS, so a process that can poll it takes it.
 *
 * stop() aborts the polls in flight, waits for them (bounded) and gives back every lease it still holds
 * with the next poll time unchanged, so another worker takes the jobs at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { MediagenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobRecord, Store } from '../store/store.js';
import type { JobLedger } from './ledger.js';
import { MAX_BACKOFF_MS, nextPollAt, pastLimit, pollTiming, type PollTiming } from './schedule.js';
import { isFinal } from './status.js';

export interface Poller {
  ledger: JobLedger;
  keepOutputs?: (job: JobRecord, signal: AbortSignal) => Promise<JobRecord>;
}

export interface WorkerOptions {
  store: Store;
  logger: Logger;
  now?: () => number;
  /** This worker's lease owner; default `<host>:<pid>:<8 random hex>`. */
  owner?: string;
  concurrency: number;
  /** The poller of a job (by its principal); undefined: this process cannot poll it. */
  pollerFor: (job: JobRecord) => Poller | undefined;
  /** Only jobs of these providers are leased; all when unset. */
  providers?: readonly string[];
  /** How long a lease lasts (default 60 s); a worker that dies loses its jobs when it runs out. */
  leaseMs?: number;
  /** Overrides the catalogue's pollSeconds (sandbox 250 ms, MEDIAGEN_POLL_MS). */
  intervalMs?: number;
  /** The longest sleep between lease rounds (default 5 s). */
  idleMs?: number;
}

export interface WorkerStats {
  /** When the worker started (ms). */
  since: number;
  polls: number;
  errors: number;
  succeeded: number;
  failed: number;
  /** Failed jobs whose reservation the worker's poll refunded, and their credits. */
  refunded: number;
  refundedCredits: number;
  /** Jobs seen past their time limit (polled slowly from then on, not refunded). */
  timedOut: number;
  /** Jobs no longer polled: undecided 48 h past their limit. */
  gaveUp: number;
  /** Succeeded jobs whose outputs were kept in the output store. */
  kept: number;
}

/** A job this process cannot poll is given back for this long. */
export const UNPOLLABLE_MS = 15 * 60_000;
/** Attempts at keeping a succeeded job's outputs before giving up on them. */
export const KEEP_ATTEMPTS = 10;
/** stop() waits this long for the polls in flight to end. */
export const STOP_MS = 3_000;
/** The shortest sleep when jobs are due but none could be leased (held by another worker). */
export const BUSY_SLEEP_MS = 200;
/** The sleep after the store failed to lease. */
const STORE_RETRY_MS = 2_000;

const CANNOT_POLL = new Set(['NOT_CONFIGURED', 'NOT_SUPPORTED']);

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class Worker {
  private readonly o: Required<Omit<WorkerOptions, 'providers' | 'intervalMs'>> &
    Pick<WorkerOptions, 'providers' | 'intervalMs'>;
  private readonly abort = new AbortController();
  /** Leased jobs not yet given back, by id (the record as leased). */
  private readonly held = new Map<string, JobRecord>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly counts: WorkerStats;
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
  }

  get owner(): string {
    return this.o.owner;
  }

  start(): void {
    if (this.loop || this.abort.signal.aborted) return;
    this.counts.since = this.o.now();
    this.loop = this.run();
  }

  /** End the current sleep at once (a webhook hint, a new job). */
  wake(): void {
    this.woken = true;
    this.wakeSleep?.();
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
      await Promise.allSettled([...this.held.values()].map((job) => this.giveBack(job)));
    })());
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
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
      });
      if (this.storeDown) this.o.logger.info('worker: the store answers again');
      this.storeDown = false;
      return jobs;
    } catch (err) {
      if (!this.storeDown) this.o.logger.warn('worker: could not lease due jobs; retrying', { error: errorText(err) });
      this.storeDown = true;
      return undefined;
    }
  }

  /** How long to sleep: until the next job is due, at most idleMs. */
  private async untilDue(): Promise<number> {
    let due: number | undefined;
    try {
      due = await this.o.store.nextDueAt(this.o.providers);
    } catch {
      return STORE_RETRY_MS;
    }
    if (due === undefined) return this.o.idleMs;
    const ms = due - this.o.now();
    // Due but not leased: another worker holds it (its next poll time is written when it gives it back).
    return Math.min(this.o.idleMs, Math.max(BUSY_SLEEP_MS, ms));
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
    const task = this.handle(job)
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

  private async handle(job: JobRecord): Promise<void> {
    const poller = this.o.pollerFor(job);
    if (!poller) return this.release(job, this.o.now() + UNPOLLABLE_MS, job.pollErrors ?? 0);
    if (isFinal(job.status)) return this.keep(job, poller, job.pollErrors ?? 0);
    let timing: PollTiming;
    try {
      timing = pollTiming(poller.ledger.spec(job).spec, this.o.intervalMs);
    } catch {
      return this.release(job, this.o.now() + UNPOLLABLE_MS, job.pollErrors ?? 0);
    }
    const deadline = this.deadline();
    let polled: JobRecord;
    try {
      polled = await poller.ledger.poll(job.id, deadline.signal, undefined, { background: true });
    } catch (err) {
      if (this.stopped) return this.giveBack(job);
      const now = this.o.now();
      if (err instanceof MediagenError && CANNOT_POLL.has(err.code))
        return this.release(job, now + UNPOLLABLE_MS, job.pollErrors ?? 0);
      const errors = (job.pollErrors ?? 0) + 1;
      this.counts.errors++;
      this.o.logger.warn(`worker: status poll of job ${job.id} failed`, { job: job.id, code: codeOf(err), errors });
      return this.schedule(job, timing, now, errors);
    } finally {
      deadline.done();
    }
    this.counts.polls++;
    const now = this.o.now();
    if (!isFinal(polled.status)) {
      if (pastLimit(polled, timing, now) && !pastLimit(polled, timing, job.updatedAt)) {
        this.counts.timedOut++;
        this.o.logger.info(
          `job ${job.id}: past its time limit; polled every ${Math.round(timing.slowMs / 1000)} s from now, not refunded`,
          { job: job.id, tool: job.tool },
        );
      }
      return this.schedule(job, timing, now, 0);
    }
    if (!isFinal(job.status)) await this.settled(job, polled);
    if (polled.status === 'succeeded' && polled.nextPollAt != null) return this.keep(polled, poller, 0);
    return this.release(job, null, 0);
  }

  /** Counts of a job the worker's poll found final (the ledger logged the transition). */
  private async settled(before: JobRecord, job: JobRecord): Promise<void> {
    if (job.status === 'succeeded') this.counts.succeeded++;
    if (job.status !== 'failed') return;
    this.counts.failed++;
    const reservation = await this.o.store.reservationOfJob(job.id).catch(() => undefined);
    if (reservation?.state !== 'refunded') return;
    this.counts.refunded++;
    this.counts.refundedCredits += reservation.credits;
    this.o.logger.info(`job ${job.id}: failed at the provider; ${reservation.credits} credits refunded`, {
      job: job.id,
      tool: before.tool,
      reservation: reservation.id,
    });
  }

  private async schedule(job: JobRecord, timing: PollTiming, now: number, errors: number): Promise<void> {
    const next = nextPollAt(job, timing, now, errors);
    if (next === null) {
      this.counts.gaveUp++;
      this.o.logger.info(
        `job ${job.id}: gave up; the provider had not decided 48 h past its time limit (nothing refunded on our clock)`,
        { job: job.id, tool: job.tool },
      );
    }
    return this.release(job, next, errors);
  }

  /** Keep a succeeded job's outputs in the output store. */
  private async keep(job: JobRecord, poller: Poller, failedBefore: number): Promise<void> {
    if (job.status !== 'succeeded' || !poller.keepOutputs) return this.release(job, null, 0);
    const deadline = this.deadline();
    try {
      await poller.keepOutputs(job, deadline.signal);
      this.counts.kept++;
      this.o.logger.info(`job ${job.id}: outputs kept`, { job: job.id, tool: job.tool });
      return this.release(job, null, 0);
    } catch (err) {
      if (this.stopped) return this.giveBack(job);
      const errors = failedBefore + 1;
      this.counts.errors++;
      if (errors >= KEEP_ATTEMPTS) {
        this.o.logger.warn(`job ${job.id}: gave up keeping its outputs after ${errors} attempts`, {
          job: job.id,
          code: codeOf(err),
        });
        return this.release(job, null, errors);
      }
      this.o.logger.warn(`worker: keeping the outputs of job ${job.id} failed; will retry`, {
        job: job.id,
        code: codeOf(err),
        errors,
      });
      const delay = Math.min(MAX_BACKOFF_MS, (this.o.intervalMs ?? 5_000) * 2 ** errors);
      return this.release(job, this.o.now() + delay, errors);
    } finally {
      deadline.done();
    }
  }

  /** Stop or lease end: one poll may take at most 3/4 of the lease, so it ends before the lease does. */
  private deadline(): { signal: AbortSignal; done: () => void } {
    const ctl = new AbortController();
    const timer = setTimeout(
      () => ctl.abort(new DOMException('the lease is running out', 'TimeoutError')),
      Math.floor(this.o.leaseMs * 0.75),
    );
    return { signal: AbortSignal.any([this.abort.signal, ctl.signal]), done: () => clearTimeout(timer) };
  }

  /** Give a lease back untouched (stopping): the job is due again as it was. */
  private giveBack(job: JobRecord): Promise<void> {
    return this.release(job, job.nextPollAt ?? this.o.now(), job.pollErrors ?? 0);
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

function codeOf(err: unknown): string {
  if (err instanceof MediagenError) return err.code;
  if (err instanceof Error) return err.name;
  return 'ERROR';
}

/** A store error's message (no provider data: the store's own driver text). */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
