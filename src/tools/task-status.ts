/**
 * The task status of a job, as a pure function of its ledger record and the time, so every replica and
 * every restart answers the same and a terminal status never changes once it could have been reported.
 *
 * - A job within its catalogue time limit: `working` until the provider says it is final.
 * - Past our time limit, the provider has not decided: still `working`, with a status message that says
 *   so. Nothing is refunded on our clock; the provider decides.
 * - Not decided within LATE_GRACE_MS after our time limit: `failed` for good, with where a late result
 *   will be found (jobs_get, or jobs_track elsewhere). A job the provider finishes after that point stays
 *   a failed task; jobs_get shows its outputs. A decision recorded within CLOCK_SKEW_MS before that point
 *   counts as after it (replicas' clocks differ). Raising an operation's timeoutMinutes later moves the
 *   point for jobs not yet given up; the catalogue's limit is the operator's to keep.
 */
import { LATE_GRACE_MS } from '../jobs/schedule.js';
import type { JobRecord } from '../store/store.js';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** How long past our time limit a task stays `working` while the provider has not decided (48 h). */
export { LATE_GRACE_MS };
/**
 * Clocks of replicas differ: a decision recorded this close before the give-up time counts as after it,
 * so a replica that already reported the task failed (its clock ahead) is never contradicted by one whose
 * clock is behind.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

const STATUS: Record<JobRecord['status'], TaskStatus> = {
  pending: 'working',
  running: 'working',
  succeeded: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export interface TaskPhase {
  status: TaskStatus;
  /** `late`: past our limit, provider undecided; `given_up`: failed for good on our side. */
  phase: 'normal' | 'late' | 'given_up';
  message: string;
}

/** "90 s", "20 min", "2 h". */
export function span(ms: number): string {
  if (ms < 120_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

function lateResultHint(job: JobRecord): string {
  return (
    `If the provider finishes it later, jobs_get {"job_id":"${job.id}"} shows the late result ` +
    `(on a server without this ledger, jobs_track with provider job id ${JSON.stringify(job.providerJobId)}).`
  );
}

/** The message of a task given up on (also the text of its tasks/result). */
export function givenUpMessage(job: JobRecord, timeoutMs: number): string {
  return (
    `Job ${job.id} (${job.tool}) is past our time limit of ${span(timeoutMs)} and the provider had not decided ` +
    `within ${span(LATE_GRACE_MS)} after it, so this task is failed for good. Nothing was refunded on our clock. ` +
    lateResultHint(job)
  );
}

/** The task status of `job` at `now`, given its catalogue time limit. */
export function taskPhase(job: JobRecord, timeoutMs: number, now: number): TaskPhase {
  const word = job.providerStatus ? ` (${job.providerStatus})` : '';
  const pct = job.progress !== null ? `, ${job.progress}%` : '';
  const base = `${job.tool}: ${job.status}${word}${pct}${job.error ? `: ${job.error}` : ''}`;
  const limitAt = job.createdAt + timeoutMs;
  const giveUpAt = limitAt + LATE_GRACE_MS;
  const open = job.status === 'pending' || job.status === 'running';
  const decidedAt = open ? null : (job.finishedAt ?? job.updatedAt);
  if ((open && now > giveUpAt) || (decidedAt !== null && decidedAt > giveUpAt - CLOCK_SKEW_MS))
    return { status: 'failed', phase: 'given_up', message: `JOB_TIMEOUT: ${givenUpMessage(job, timeoutMs)}` };
  if (open && now > limitAt)
    return {
      status: 'working',
      phase: 'late',
      message:
        `${base}. Past our time limit of ${span(timeoutMs)}; the provider has not decided yet. The task stays ` +
        `working until it does, until ${new Date(giveUpAt).toISOString()} at most; nothing is refunded on our clock.`,
    };
  return { status: STATUS[job.status], phase: 'normal', message: base };
}
