/**
 * One leased job of the background worker (see worker.ts): its status poll and what follows, its
 * outputs kept, its counts and log lines, and the lease given back with the next poll time.
 */
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

const CANNOT_POLL = new Set(['NOT_CONFIGURED', 'NOT_SUPPORTED']);

/** What a job's run needs of its worker. */
export interface RunContext {
  store: Store;
  logger: Logger;
  now: () => number;
  intervalMs?: number;
  leaseMs: number;
  /** Aborted when the worker stops. */
  stop: AbortSignal;
  counts: WorkerStats;
  /** Give the lease back (once) with the next poll time and the errors in a row. */
  release: (job: JobRecord, next: number | null, errors: number) => Promise<void>;
}

/** Poll (or keep the outputs of) one leased job, and give the lease back with its next poll time. */
export async function runLeased(job: JobRecord, poller: Poller | undefined, c: RunContext): Promise<void> {
  if (!poller) return c.release(job, c.now() + UNPOLLABLE_MS, job.pollErrors ?? 0);
  if (isFinal(job.status)) return keep(job, poller, job.pollErrors ?? 0, c);
  let timing: PollTiming;
  try {
    timing = pollTiming(poller.ledger.spec(job).spec, c.intervalMs);
  } catch {
    return c.release(job, c.now() + UNPOLLABLE_MS, job.pollErrors ?? 0);
  }
  const deadline = leaseDeadline(c);
  let polled: JobRecord;
  try {
    polled = await poller.ledger.poll(job.id, deadline.signal, undefined, { background: true });
  } catch (err) {
    if (c.stop.aborted) return giveBack(job, c);
    const now = c.now();
    if (err instanceof MediagenError && CANNOT_POLL.has(err.code))
      return c.release(job, now + UNPOLLABLE_MS, job.pollErrors ?? 0);
    const errors = (job.pollErrors ?? 0) + 1;
    c.counts.errors++;
    c.logger.warn(`worker: status poll of job ${job.id} failed`, { job: job.id, code: codeOf(err), errors });
    return schedule(job, timing, now, errors, c);
  } finally {
    deadline.done();
  }
  const now = c.now();
  // Skipped by the ledger (a caller polled it just now): the errors in a row stand.
  const skipped = polled.polls === job.polls;
  if (!skipped) c.counts.polls++;
  if (!isFinal(polled.status)) {
    // Once, on the poll whose recorded time is the first past the limit (the ledger's clock, not ours).
    if (!skipped && pastLimit(job, timing, polled.updatedAt) && !pastLimit(job, timing, job.updatedAt)) {
      c.counts.timedOut++;
      c.logger.info(
        `job ${job.id}: past its time limit; polled every ${Math.round(timing.slowMs / 1000)} s from now, not refunded`,
        { job: job.id, tool: job.tool },
      );
    }
    return schedule(job, timing, now, skipped ? (job.pollErrors ?? 0) : 0, c);
  }
  if (!isFinal(job.status)) await settled(job, polled, c);
  if (polled.status === 'succeeded' && polled.nextPollAt != null) return keep(polled, poller, 0, c);
  return c.release(job, null, 0);
}

/** Counts of a job the worker's poll found final (the ledger logged the transition). */
async function settled(before: JobRecord, job: JobRecord, c: RunContext): Promise<void> {
  if (job.status === 'succeeded') c.counts.succeeded++;
  if (job.status !== 'failed') return;
  c.counts.failed++;
  const reservation = await c.store.reservationOfJob(job.id).catch(() => undefined);
  if (reservation?.state !== 'refunded') return;
  c.counts.refunded++;
  c.counts.refundedCredits += reservation.credits;
  c.logger.info(`job ${job.id}: failed at the provider; ${reservation.credits} credits refunded`, {
    job: job.id,
    tool: before.tool,
    reservation: reservation.id,
  });
}

function schedule(job: JobRecord, timing: PollTiming, now: number, errors: number, c: RunContext): Promise<void> {
  const next = nextPollAt(job, timing, now, errors);
  if (next === null) {
    c.counts.gaveUp++;
    c.logger.info(
      `job ${job.id}: gave up; the provider had not decided 48 h past its time limit (nothing refunded on our clock)`,
      { job: job.id, tool: job.tool },
    );
  }
  return c.release(job, next, errors);
}

/** Keep a succeeded job's outputs in the output store. */
async function keep(job: JobRecord, poller: Poller, failedBefore: number, c: RunContext): Promise<void> {
  if (job.status !== 'succeeded' || !poller.keepOutputs) return c.release(job, null, 0);
  const deadline = leaseDeadline(c);
  try {
    await poller.keepOutputs(job, deadline.signal);
    c.counts.kept++;
    c.logger.info(`job ${job.id}: outputs kept`, { job: job.id, tool: job.tool });
    return c.release(job, null, 0);
  } catch (err) {
    if (c.stop.aborted) return giveBack(job, c);
    const errors = failedBefore + 1;
    c.counts.errors++;
    if (errors >= KEEP_ATTEMPTS) {
      c.logger.warn(`job ${job.id}: gave up keeping its outputs after ${errors} attempts`, {
        job: job.id,
        code: codeOf(err),
      });
      return c.release(job, null, errors);
    }
    c.logger.warn(`worker: keeping the outputs of job ${job.id} failed; will retry`, {
      job: job.id,
      code: codeOf(err),
      errors,
    });
    const delay = Math.min(MAX_BACKOFF_MS, (c.intervalMs ?? 5_000) * 2 ** errors);
    return c.release(job, c.now() + delay, errors);
  } finally {
    deadline.done();
  }
}

/** Stop or lease end: one poll may take at most 3/4 of the lease, so it ends before the lease does. */
function leaseDeadline(c: RunContext): { signal: AbortSignal; done: () => void } {
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(new DOMException('the lease is running out', 'TimeoutError')),
    Math.floor(c.leaseMs * 0.75),
  );
  return { signal: AbortSignal.any([c.stop, ctl.signal]), done: () => clearTimeout(timer) };
}

/**
 * Give a lease back untouched (stopping): the job was due when leased, so it is due again now (the leased
 * record's nextPollAt is the lease's end, not the schedule), for another worker to take at once.
 */
export function giveBack(job: JobRecord, c: RunContext): Promise<void> {
  return c.release(job, c.now(), job.pollErrors ?? 0);
}

export function codeOf(err: unknown): string {
  if (err instanceof MediagenError) return err.code;
  if (err instanceof Error) return err.name;
  return 'ERROR';
}

/** A store error's message (no provider data: the store's own driver text). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
