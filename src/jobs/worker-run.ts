/**
 * What one leased job's run (worker-job.ts, worker-keep.ts) shares with its worker: the poller, the
 * counts, the run context, and how long a run may hold its lease.
 */
import { MediagenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobRecord, Store } from '../store/store.js';
import type { JobLedger } from './ledger.js';

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
  /** Extend this worker's lease on the job to `until`; false when it no longer holds it. */
  renew: (job: JobRecord, until: number) => Promise<boolean>;
  /** Leave the job to other processes for a while: this one does not lease it again until then. */
  skip: (job: JobRecord) => void;
}

/** Stop or lease end: one poll may take at most 3/4 of the lease, so it ends before the lease does. */
export function leaseDeadline(c: RunContext): { signal: AbortSignal; done: () => void } {
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(new DOMException('the lease is running out', 'TimeoutError')),
    Math.floor(c.leaseMs * 0.75),
  );
  return { signal: AbortSignal.any([c.stop, ctl.signal]), done: () => clearTimeout(timer) };
}

/**
 * A long run's hold on its lease: renewed every third of the lease for as long as it runs. The signal is
 * aborted when the worker stops or the lease is lost (another worker took the job, or the store could
 * not renew it before it ran out).
 */
export function leaseHold(
  job: JobRecord,
  c: RunContext,
): { signal: AbortSignal; done: () => void; lost: () => boolean } {
  const ctl = new AbortController();
  let lost = false;
  let leaseEnd = c.now() + c.leaseMs;
  const renew = async (): Promise<void> => {
    const until = c.now() + c.leaseMs;
    const held = await c.renew(job, until).catch(() => c.now() < leaseEnd - c.leaseMs / 3);
    if (held) leaseEnd = Math.max(leaseEnd, until);
    else if (!ctl.signal.aborted) {
      lost = true;
      ctl.abort(new DOMException('the lease was lost', 'AbortError'));
    }
  };
  const timer = setInterval(() => void renew(), Math.max(1, Math.floor(c.leaseMs / 3)));
  return {
    signal: AbortSignal.any([c.stop, ctl.signal]),
    done: () => clearInterval(timer),
    lost: () => lost,
  };
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
