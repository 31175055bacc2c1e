/**
 * One status poll of a job at a time per ledger (per principal's app), so the background worker and a
 * caller in the same process never both ask the provider about a job within one interval:
 *
 * - a poll of a job whose poll is already in flight joins it (the same answer, no second request);
 * - a background poll within one interval of the last poll of the job is skipped (a caller just asked);
 * - a caller's poll within one interval of a background poll is skipped too (the worker just asked):
 *   the caller gets the record the worker's poll wrote. Callers' own polls keep their cadence.
 */
import { createHash } from 'node:crypto';
import type { JobRecord } from '../store/store.js';

/**
 * The gate's name for a poll of `job`: its id, except for a job created with a per-request key (--byok),
 * where each key polls in its own lane (keyed by the key's SHA-256): a request never joins a poll sent with
 * another key, so one account's answer or failure (a wrong key's 401) is never handed to another.
 */
export function gateLane(job: JobRecord, requestKey: string | undefined): string {
  if (!job.byok || requestKey === undefined) return job.id;
  return `${job.id}\0${createHash('sha256').update(requestKey).digest('hex')}`;
}

/** Recent polls remembered (the oldest forgotten first). */
const RECENT_KEPT = 10_000;

export class PollGate {
  private readonly inflight = new Map<string, Promise<JobRecord>>();
  private readonly recent = new Map<string, { at: number; background: boolean }>();

  constructor(private readonly now: () => number) {}

  /** The poll of `id` in flight, joined (a caller's signal still ends its own wait). */
  joined(id: string, signal?: AbortSignal): Promise<JobRecord> | undefined {
    const p = this.inflight.get(id);
    return p && abortable(p, signal);
  }

  /** Whether a poll of `id` now would repeat one made within `intervalMs` (see the module comment). */
  tooSoon(id: string, background: boolean, intervalMs: number): boolean {
    const last = this.recent.get(id);
    if (!last || (!background && !last.background)) return false;
    return this.now() - last.at < intervalMs;
  }

  /**
   * Run the poll of `id`, visible to joiners until it ends. It counts from when it was sent: the next poll
   * time the ledger writes (its answer's time + the interval) is never too soon for it.
   */
  run(id: string, background: boolean, poll: () => Promise<JobRecord>): Promise<JobRecord> {
    const at = this.now();
    const p = poll().finally(() => {
      this.inflight.delete(id);
      this.recent.delete(id);
      this.recent.set(id, { at, background });
      if (this.recent.size > RECENT_KEPT) this.recent.delete(this.recent.keys().next().value as string);
    });
    this.inflight.set(id, p);
    return p;
  }
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
