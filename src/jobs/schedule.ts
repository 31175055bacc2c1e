/**
 * When a job is polled next, one rule for the ledger (every poll writes it) and the background worker
 * (which also backs off after errors):
 *
 * - within its operation's time limit: every poll interval (`pollSeconds`, or the sandbox/test override);
 * - past the limit (the provider has not decided; nothing is refunded on our clock): at a slow rate, every
 *   10 minutes (interval × 20 with an override);
 * - LATE_GRACE_MS (48 h) past the limit: never again (null); the task is failed for good (task-status.ts),
 *   and a late result is still found by jobs_get or jobs_track.
 *
 * After `errors` failed polls in a row the delay doubles from the interval, up to MAX_BACKOFF_MS.
 */
import type { JobSpec } from '../catalogue/format.js';
import type { JobRecord } from '../store/store.js';

/** How long past its time limit a job the provider has not decided is still polled (48 h); see task-status.ts. */
export const LATE_GRACE_MS = 48 * 3_600_000;
/** The slow rate past the time limit (without an interval override). */
export const SLOW_POLL_MS = 10 * 60_000;
/** The longest delay after failed polls. */
export const MAX_BACKOFF_MS = 10 * 60_000;
/** With an interval override (sandbox, tests) the slow rate is this many intervals. */
export const SLOW_FACTOR = 20;

export interface PollTiming {
  /** Between polls while the job is within its time limit. */
  pollMs: number;
  /** The operation's time limit, from the job's creation. */
  timeoutMs: number;
  /** Between polls once it is past the limit. */
  slowMs: number;
}

export function pollTiming(spec: Pick<JobSpec, 'pollSeconds' | 'timeoutMinutes'>, intervalMs?: number): PollTiming {
  const pollMs = intervalMs ?? spec.pollSeconds * 1000;
  return {
    pollMs,
    timeoutMs: spec.timeoutMinutes * 60_000,
    slowMs: Math.max(pollMs, intervalMs !== undefined ? intervalMs * SLOW_FACTOR : SLOW_POLL_MS),
  };
}

/** When the worker stops polling a job the provider never decided. */
export function giveUpAt(job: Pick<JobRecord, 'createdAt'>, t: PollTiming): number {
  return job.createdAt + t.timeoutMs + LATE_GRACE_MS;
}

/** Past the operation's time limit at `now`. */
export function pastLimit(job: Pick<JobRecord, 'createdAt'>, t: PollTiming, now: number): boolean {
  return now > job.createdAt + t.timeoutMs;
}

/** The next poll of an open job at `now` after `errors` failed polls in a row; null: give up. */
export function nextPollAt(job: Pick<JobRecord, 'createdAt'>, t: PollTiming, now: number, errors = 0): number | null {
  const end = giveUpAt(job, t);
  if (now >= end) return null;
  const base = pastLimit(job, t, now) ? t.slowMs : t.pollMs;
  const delay = errors > 0 ? Math.max(base, Math.min(MAX_BACKOFF_MS, t.pollMs * 2 ** Math.min(errors, 30))) : base;
  return Math.min(now + delay, end);
}
