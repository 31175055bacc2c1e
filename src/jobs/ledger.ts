/**
 * The job ledger: every accepted job is recorded before the create call returns; status polls update it;
 * a failed job releases its spend reservation (providers refund failures). Survives restarts: all state
 * lives in the Store.
 */
import type { JobSpec, Operation } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';
import type { Logger } from '../log.js';
import { clientFor, type ProviderClient } from '../providers/client.js';
import type { JobPage, JobQuery, JobRecord, JobStatus, Store } from '../store/store.js';
import { newJobRecord, type NewJob } from './job-record.js';
import { gateLane, PollGate } from './poll-gate.js';
import { pastLimit, pollTiming } from './schedule.js';
import { statusPatch } from './status-patch.js';
import { isFinal } from './status.js';

/** What the ledger needs to know of a tool to poll or cancel its jobs. */
export interface JobTool {
  name: string;
  provider: string;
  op: Operation;
}

export interface LedgerDeps {
  store: Store;
  clients: ReadonlyMap<string, ProviderClient>;
  /** Every tool the catalogues define (filtered out or not): jobs stay pollable. */
  tools: ReadonlyMap<string, JobTool>;
  logger: Logger;
  now: () => number;
  /** Called when a job fails: the provider refunds, so the reservation is released. */
  onFailed?: (job: JobRecord) => Promise<void>;
  /** Called once a poll or cancel finds a job in a final state (best effort: must not throw). */
  onFinal?: (job: JobRecord) => Promise<void>;
  /**
   * Outputs of succeeded jobs are copied into the output store: a job that succeeds stays due
   * (next_poll_at = now) until the background worker has kept them.
   */
  keepsOutputs?: boolean;
  /** Overrides the catalogue's poll interval in the next-poll times written (sandbox, MEDIAGEN_POLL_MS). */
  intervalMs?: number;
  /** Told of every job just recorded (the background worker wakes for it). */
  onCreated?: (job: JobRecord) => void;
}

export interface PollOptions {
  /** A background worker's poll: it yields to foreground calls under the provider's rate limit. */
  background?: boolean;
}

export { newJobId, newJobRecord, type NewJob } from './job-record.js';

export class JobLedger {
  private readonly gate: PollGate;

  constructor(private readonly deps: LedgerDeps) {
    this.gate = new PollGate(deps.now);
  }

  /** How long after its creation a job of `tool` is first polled in the background. */
  firstPollDelay(tool: JobTool): number {
    return this.deps.intervalMs ?? (tool.op.job?.pollSeconds ?? 5) * 1000;
  }

  async record(n: NewJob): Promise<JobRecord> {
    const job = newJobRecord(n, this.deps.now(), this.firstPollDelay(n.tool));
    await this.deps.store.insertJob(job);
    this.created(job);
    return job;
  }

  /** A job was just recorded (here or by the paid path). */
  created(job: JobRecord): void {
    this.deps.onCreated?.(job);
  }

  /**
   * The job already recorded for this provider job id, when it is `principal`'s. A provider job id in the
   * ledger belongs to its principal: for anyone else it is NOT_FOUND, in the very words used for an id the
   * provider does not know, and nothing is sent.
   */
  async tracked(tool: JobTool, providerJobId: string, principal: string): Promise<JobRecord | undefined> {
    const job = await this.deps.store.jobByProviderId(tool.provider, providerJobId);
    if (job && job.principal !== principal) throw untracked(tool, providerJobId);
    return job;
  }

  /**
   * Record a job created elsewhere (the provider's dashboard, another machine, a call whose outcome was
   * unknown): one free status poll first proves the provider knows the id, then the record, then a poll
   * that fills in its status. Nothing is charged. `beforePoll` runs once it is recorded (settling a
   * reservation, so a failed job's refund finds it committed). A provider job id already in the ledger is
   * not recorded again: its owner gets that job (`existing`, and `beforePoll` does not run), anyone else
   * NOT_FOUND.
   */
  async adopt(
    n: NewJob,
    signal?: AbortSignal,
    beforePoll?: () => Promise<void>,
  ): Promise<{ job: JobRecord; existing: boolean }> {
    const spec = n.tool.op.job;
    if (!spec) throw new MediagenError('NOT_SUPPORTED', `${n.tool.name} creates no job, so there is nothing to track.`);
    const known = await this.tracked(n.tool, n.providerJobId, n.principal);
    if (known) return { job: await this.poll(known.id, signal, n.principal), existing: true };
    try {
      await clientFor(this.deps.clients, n.tool.provider).callJobRoute(spec.status, n.providerJobId, {
        safe: true,
        signal,
      });
    } catch (err) {
      // The provider's own "not found" reads exactly like another principal's job.
      if (err instanceof MediagenError && err.code === 'NOT_FOUND') throw untracked(n.tool, n.providerJobId);
      throw err;
    }
    try {
      await this.record(n);
    } catch (err) {
      // Recorded by a concurrent call meanwhile: UNIQUE (provider, provider_job_id) kept it to one record.
      const won = await this.tracked(n.tool, n.providerJobId, n.principal);
      if (!won) throw err;
      return { job: won, existing: true };
    }
    await beforePoll?.();
    return { job: await this.poll(n.id, signal, n.principal), existing: false };
  }

  /** The job; NOT_FOUND when it does not exist or (with `owner`) belongs to another principal: the same answer. */
  async get(id: string, owner?: string): Promise<JobRecord> {
    const job = typeof id === 'string' && id ? await this.deps.store.getJob(id) : undefined;
    if (!job || (owner !== undefined && job.principal !== owner))
      throw new MediagenError(
        'NOT_FOUND',
        `No job ${JSON.stringify(id)} in the ledger. jobs_list shows the known jobs.`,
      );
    return job;
  }

  list(q: JobQuery): Promise<JobPage> {
    return this.deps.store.listJobs(q);
  }

  /**
   * How long a caller should wait before asking about an open job again: the poll interval of the
   * schedule the ledger writes (schedule.ts; the slow rate past the time limit). null: final, or a tool
   * the catalogue no longer describes.
   */
  pollAfterMs(job: JobRecord): number | null {
    if (isFinal(job.status)) return null;
    const spec = this.deps.tools.get(job.tool)?.op.job;
    if (!spec) return null;
    const t = pollTiming(spec, this.deps.intervalMs);
    return pastLimit(job, t, this.deps.now()) ? t.slowMs : t.pollMs;
  }

  spec(job: JobRecord): { tool: JobTool; spec: JobSpec } {
    const tool = this.deps.tools.get(job.tool);
    if (!tool?.op.job)
      throw new MediagenError(
        'NOT_SUPPORTED',
        `The catalogue no longer describes ${job.tool}, so job ${job.id} cannot be polled.`,
      );
    return { tool, spec: tool.op.job };
  }

  /**
   * One status poll (unless the job is already final); updates and returns the record. Every poll, the
   * foreground's too, sets when the background worker polls next (so a caller waiting on a job holds the
   * worker off it): the schedule of schedule.ts while open; once final, now when its outputs are still to
   * be kept, else never.
   */
  async poll(id: string, signal?: AbortSignal, owner?: string, opts: PollOptions = {}): Promise<JobRecord> {
    const job = await this.get(id, owner);
    if (isFinal(job.status)) return this.refundDue(job) ? this.refundFailed(job).catch(() => job) : job;
    const { tool, spec } = this.spec(job);
    const background = opts.background === true;
    if (background ? job.byok === true : !this.canPoll(job)) return job;
    const lane = gateLane(job, this.deps.clients.get(job.provider)?.requestKey);
    const running = this.gate.joined(lane, signal);
    if (running) return running;
    if (this.gate.tooSoon(lane, background, pollTiming(spec, this.deps.intervalMs).pollMs)) return job;
    return this.gate.run(lane, background, () => this.pollNow(job, tool, spec, signal, background));
  }

  private async pollNow(
    job: JobRecord,
    tool: JobTool,
    spec: JobSpec,
    signal: AbortSignal | undefined,
    background: boolean,
  ): Promise<JobRecord> {
    const { data } = await clientFor(this.deps.clients, tool.provider).callJobRoute(spec.status, job.providerJobId, {
      safe: true,
      signal,
      background,
      ...keyChoice(job),
    });
    const now = this.deps.now();
    const patch = statusPatch(job, data, spec, now, this.deps);
    const status = patch.status;
    // A failed job stays due until its refund is done: a refund that fails is retried by the worker.
    if (status === 'failed' && this.deps.onFailed) patch.nextPollAt = now;
    // Written only while the job is open: an answer read before another poll recorded a final status
    // (another replica, a caller) is stale and changes nothing (DESIGN §6).
    const updated = await this.deps.store.updateJob(job.id, patch, now, { onlyOpen: true });
    if (!updated) return this.current(job.id);
    if (status !== job.status) this.transition(job, status, background ? 'worker' : 'caller');
    const done = status === 'failed' && this.deps.onFailed ? await this.refundFailed(updated) : updated;
    if (isFinal(status)) await this.deps.onFinal?.(done);
    return done;
  }

  /**
   * False for an open job created with a per-request key (--byok) when the current request sent no key for
   * its provider: such a job is polled only with the key of the request asking, never the server's.
   */
  canPoll(job: JobRecord): boolean {
    return !job.byok || isFinal(job.status) || this.deps.clients.get(job.provider)?.requestKey !== undefined;
  }

  /** True when `job` failed and its refund may not have been made (its next poll time is still set). */
  refundDue(job: JobRecord): boolean {
    return job.status === 'failed' && job.nextPollAt != null && this.deps.onFailed !== undefined;
  }

  /**
   * Refund a failed job's reservation (idempotent), then mark that nothing is left to do. Throws when the
   * refund fails: the job stays due, and the background worker calls this again.
   */
  async refundFailed(job: JobRecord): Promise<JobRecord> {
    await this.deps.onFailed?.(job);
    return (await this.deps.store.updateJob(job.id, { nextPollAt: null }, this.deps.now())) ?? job;
  }

  /** The job as recorded now (a write that changed nothing: it was final already). */
  private async current(id: string): Promise<JobRecord> {
    const job = await this.deps.store.getJob(id);
    if (!job) throw new MediagenError('NOT_FOUND', `Job ${id} vanished from the ledger.`);
    return job;
  }

  /** Cancel at the provider when the catalogue has a cancel route; NOT_SUPPORTED otherwise. */
  async cancel(id: string, signal?: AbortSignal, owner?: string): Promise<JobRecord> {
    const job = await this.get(id, owner);
    if (isFinal(job.status)) return job;
    const { tool, spec } = this.spec(job);
    if (!spec.cancel)
      throw new MediagenError(
        'NOT_SUPPORTED',
        `${tool.provider} offers no cancel route for ${job.tool}; the job keeps running.`,
        {
          job_id: job.id,
        },
      );
    await clientFor(this.deps.clients, tool.provider).callJobRoute(spec.cancel, job.providerJobId, {
      safe: false,
      signal,
      ...keyChoice(job),
    });
    const now = this.deps.now();
    const updated = await this.deps.store.updateJob(
      job.id,
      {
        status: 'cancelled',
        providerStatus: 'cancelled',
        finishedAt: now,
        error: "cancelled at the caller's request",
        nextPollAt: null,
      },
      now,
      { onlyOpen: true },
    );
    if (!updated) return this.current(job.id); // it ended meanwhile: that status stands
    this.transition(job, 'cancelled', 'caller');
    await this.deps.onFinal?.(updated);
    return updated;
  }

  /** A status change, logged once (by the poll that saw it), with ids only. */
  private transition(job: JobRecord, to: JobStatus, by: 'worker' | 'caller'): void {
    this.deps.logger.info(`job ${job.id}: ${job.status} -> ${to}`, { job: job.id, tool: job.tool, by });
  }

  /** True when the job has outlived its catalogue timeout. */
  expired(job: JobRecord): boolean {
    const tool = this.deps.tools.get(job.tool);
    const minutes = tool?.op.job?.timeoutMinutes ?? 60;
    return !isFinal(job.status) && this.deps.now() - job.createdAt > minutes * 60_000;
  }
}

/** jobs_track's answer for a provider job id it cannot adopt: unknown to the provider, or another principal's. */
function untracked(tool: JobTool, providerJobId: string): MediagenError {
  return new MediagenError(
    'NOT_FOUND',
    `No ${tool.name} job ${JSON.stringify(providerJobId)} was found to track. Nothing was recorded or charged.`,
  );
}

/** The key a job's polls and cancel go with: the one it was created with (the request's, or the server's). */
function keyChoice(job: JobRecord): { ownKeyOnly: boolean; serverKeyOnly: boolean } {
  return { ownKeyOnly: job.byok === true, serverKeyOnly: job.byok !== true };
}
