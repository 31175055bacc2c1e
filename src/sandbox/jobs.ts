/**
 * The sandbox's job table: provider-agnostic. A job moves through phases by being polled; the provider
 * module turns a phase (and the job's scripted outcome) into its own status words.
 *
 * Poll n (1-based): n >= pollsToComplete -> 'done'; else n === 1 -> 'queued'; else 'running'.
 * With the default pollsToComplete = 3: queued, running, done, done, ...
 */
import { randomBytes } from 'node:crypto';

/** How a job ends once it is done. */
export type JobOutcome = 'success' | 'failure' | 'timeout';
export type JobPhase = 'queued' | 'running' | 'done' | 'cancelled';

export interface Job {
  id: string;
  provider: string;
  createdAt: number;
  /** Status polls so far. */
  polls: number;
  outcome: JobOutcome;
  cancelled: boolean;
  /** Whatever the provider module wants to remember (model, inputs, output kind...). */
  meta: Record<string, unknown>;
}

export interface JobPoll {
  job: Job;
  phase: JobPhase;
}

/** Oldest jobs are forgotten beyond this many, so a long-running demo sandbox stays small. */
const MAX_JOBS = 10_000;

export class JobStore {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly pollsToComplete: number) {}

  /** Create a job with id `<prefix><24 hex>`, or `<prefix><suffix>` when the provider's ids look otherwise. */
  create(provider: string, prefix: string, outcome: JobOutcome, meta: Record<string, unknown>, suffix?: string): Job {
    const id = `${prefix}${suffix ?? randomBytes(12).toString('hex')}`;
    const job: Job = { id, provider, createdAt: Date.now(), polls: 0, outcome, cancelled: false, meta };
    this.jobs.set(key(provider, id), job);
    if (this.jobs.size > MAX_JOBS) {
      const oldest = this.jobs.keys().next();
      if (!oldest.done) this.jobs.delete(oldest.value);
    }
    return job;
  }

  /** Look a job up without counting a poll. */
  get(provider: string, id: string): Job | undefined {
    return this.jobs.get(key(provider, id));
  }

  /** Count one status poll and return the job's phase after it. */
  poll(provider: string, id: string): JobPoll | undefined {
    const job = this.get(provider, id);
    if (!job) return undefined;
    job.polls += 1;
    return { job, phase: this.phaseOf(job) };
  }

  /** The phase a job is in after its polls so far (a job never polled is 'queued'). */
  phaseOf(job: Job): JobPhase {
    if (job.cancelled) return 'cancelled';
    if (job.polls >= this.pollsToComplete) return 'done';
    return job.polls <= 1 ? 'queued' : 'running';
  }

  /** Cancel a job that is not done yet. Returns false if unknown or already done/cancelled. */
  cancel(provider: string, id: string): boolean {
    const job = this.get(provider, id);
    if (!job) return false;
    const phase = this.phaseOf(job);
    if (phase === 'done' || phase === 'cancelled') return false;
    job.cancelled = true;
    return true;
  }

  /** A provider's jobs, oldest first, without counting a poll. */
  list(provider: string): Job[] {
    return [...this.jobs.values()].filter((j) => j.provider === provider);
  }

  size(): number {
    return this.jobs.size;
  }

  clear(): void {
    this.jobs.clear();
  }
}

function key(provider: string, id: string): string {
  return `${provider}\u0000${id}`;
}
