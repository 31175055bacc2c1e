/**
 * Wait for a job: poll with backoff until it is final or the wait budget is spent (then return the
 * still-running job: waiting is not an error), send progress when asked, stop when the request is
 * cancelled. The budget keeps every call well under the ~60 s at which clients cut tool calls off.
 */
import { MediagenError } from '../errors.js';
import type { JobRecord } from '../store/store.js';
import type { JobLedger } from './ledger.js';
import { isFinal } from './status.js';

export interface WaitOptions {
  budgetMs: number;
  /** Only this principal's job (another principal's is NOT_FOUND). */
  owner?: string;
  signal?: AbortSignal;
  /** notifications/progress (only when the request carried a progress token). */
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Overrides the catalogue's poll interval (sandbox and tests). */
  intervalMs?: number;
  maxIntervalMs?: number;
}

export interface WaitOutcome {
  job: JobRecord;
  done: boolean;
}

/** Delay before poll n+1 (n = polls so far in this wait): base × 1.5^n, at most maxMs. */
export function backoff(baseMs: number, n: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(baseMs * 1.5 ** n));
}

function progressMessage(job: JobRecord, startedAt: number, now: number): string {
  const word = job.providerStatus ? ` (${job.providerStatus})` : '';
  const pct = job.progress !== null ? `, ${job.progress}%` : '';
  return `${job.status}${word}${pct}, ${Math.round((now - startedAt) / 1000)} s`;
}

export async function waitForJob(ledger: JobLedger, id: string, o: WaitOptions): Promise<WaitOutcome> {
  const start = o.now();
  const first = await ledger.get(id, o.owner);
  const base = o.intervalMs ?? ledger.spec(first).spec.pollSeconds * 1000;
  const maxMs = o.maxIntervalMs ?? 15_000;
  for (let n = 0; ; n++) {
    o.signal?.throwIfAborted();
    const job = await ledger.poll(id, o.signal, o.owner);
    await o.progress?.(n + 1, undefined, progressMessage(job, first.createdAt, o.now()));
    if (isFinal(job.status)) return { job, done: true };
    // Created with a per-request key (--byok) and this request sent none: waiting would change nothing.
    if (!ledger.canPoll(job)) return { job, done: false };
    if (ledger.expired(job))
      throw new MediagenError(
        'JOB_TIMEOUT',
        `Job ${id} has not finished within its time limit; last status ${job.status}.`,
        {
          job_id: id,
          status: job.status,
        },
      );
    const remaining = start + o.budgetMs - o.now();
    if (remaining <= 0) return { job, done: false };
    await o.sleep(Math.min(backoff(base, n, maxMs), remaining), o.signal);
  }
}
