/**
 * MCP Tasks over the job ledger: a task is a job (the task id is our job id, so it survives restarts and
 * is visible to every replica), seen by its owner only. tasks/get polls the job at most once per poll
 * interval (its status rule, for jobs past our time limit too, is task-status.ts), tasks/result is
 * jobs_wait's answer, tasks/cancel is jobs_cancel, tasks/list is jobs_list. The guarded
 * create (price, consent, caps, one request) has already happened when a task exists; a create the guard
 * refused becomes a task that is already failed, whose result is the refusal (no job, nothing sent),
 * kept in memory under caps (refused-tasks.ts).
 */
import { randomUUID } from 'node:crypto';
import { MediagenError, toToolResult } from '../errors.js';
import type { JobLedger } from '../jobs/ledger.js';
import type { JobRecord } from '../store/store.js';
import type { CallContext, ServerTool, ToolResult } from './handler.js';
import { RefusedTasks, type Refusal } from './refused-tasks.js';
import { givenUpMessage, taskPhase, type TaskStatus } from './task-status.js';

export type { TaskStatus } from './task-status.js';

export interface TaskView {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  /** null: kept as long as the ledger keeps the job. */
  ttl: number | null;
  pollInterval?: number;
}

export interface JobTasksDeps {
  ledger: JobLedger;
  /** jobs_get, jobs_wait, jobs_cancel and jobs_list, whatever the tool filter lists. */
  jobTools: ReadonlyMap<string, ServerTool>;
  /** Poll interval to suggest (default: the job's catalogue pollSeconds). */
  pollMs?: number;
  now: () => number;
  /** Refused calls, bounded per principal and overall (share one across a process's principals). */
  refused?: RefusedTasks;
}

/** Jobs whose last poll attempt is remembered (a failed poll updates no record), at most. */
const ATTEMPTS_KEPT = 1_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class JobTasks {
  private readonly refused: RefusedTasks;
  /** One provider poll per job at a time in this process; later askers share it. */
  private readonly polling = new Map<string, Promise<JobRecord>>();
  /** When this process last tried to poll a job (successful polls also show in the record's updatedAt). */
  private readonly attempts = new Map<string, number>();

  constructor(private readonly d: JobTasksDeps) {
    this.refused = d.refused ?? new RefusedTasks();
  }

  private interval(job: JobRecord): number {
    if (this.d.pollMs !== undefined) return this.d.pollMs;
    try {
      return this.d.ledger.spec(job).spec.pollSeconds * 1000;
    } catch {
      return 5_000;
    }
  }

  /** Our time limit for the job (its catalogue timeoutMinutes; 60 min when the catalogue lost the tool). */
  private timeoutMs(job: JobRecord): number {
    try {
      return this.d.ledger.spec(job).spec.timeoutMinutes * 60_000;
    } catch {
      return 60 * 60_000;
    }
  }

  view(job: JobRecord): TaskView {
    const phase = taskPhase(job, this.timeoutMs(job), this.d.now());
    return {
      taskId: job.id,
      status: phase.status,
      statusMessage: phase.message,
      createdAt: iso(job.createdAt),
      lastUpdatedAt: iso(job.updatedAt),
      ttl: null,
      pollInterval: this.interval(job),
    };
  }

  /** A create the guard (or the provider) refused: a task already failed, its result the refusal. */
  refuse(result: ToolResult, principal: string): TaskView {
    const taskId = `refused_${randomUUID()}`;
    const r: Refusal = { principal, result, at: this.d.now() };
    this.refused.add(taskId, r);
    return this.refusedView(taskId, r);
  }

  private refusedView(taskId: string, r: Refusal): TaskView {
    const text = r.result.content.find((c) => c.type === 'text');
    return {
      taskId,
      status: 'failed',
      statusMessage: text?.type === 'text' ? text.text : 'refused',
      createdAt: iso(r.at),
      lastUpdatedAt: iso(r.at),
      ttl: this.refused.limits.ttlMs,
    };
  }

  private ownRefusal(id: string, ctx: CallContext): Refusal | undefined {
    const r = this.refused.get(id, this.d.now());
    return r && r.principal === ctx.principal ? r : undefined;
  }

  /** The task of a job just created (no extra poll). */
  async created(id: string, ctx: CallContext): Promise<TaskView> {
    try {
      return this.view(await this.d.ledger.get(id, ctx.principal));
    } catch {
      // The job is recorded (the create answered with its id); never lose that id over a failed re-read.
      const now = iso(this.d.now());
      return {
        taskId: id,
        status: 'working',
        createdAt: now,
        lastUpdatedAt: now,
        ttl: null,
        pollInterval: this.d.pollMs,
      };
    }
  }

  /**
   * One provider poll of a job, unless it was polled (or tried) within its poll interval: tasks/get,
   * the SDK's tasks/result loop and a client polling tasks/get all ask, and the provider sees at most
   * one status request per interval from this process.
   */
  private async fresh(job: JobRecord, ctx: CallContext): Promise<JobRecord> {
    const now = this.d.now();
    const last = Math.max(job.updatedAt, this.attempts.get(job.id) ?? 0);
    const shared = this.polling.get(job.id);
    if (shared) return shared.catch(() => job);
    if (now - last < this.interval(job)) return job;
    this.attempts.delete(job.id);
    this.attempts.set(job.id, now);
    if (this.attempts.size > ATTEMPTS_KEPT) this.attempts.delete(this.attempts.keys().next().value as string);
    const poll = this.d.ledger.poll(job.id, ctx.signal, ctx.principal).finally(() => this.polling.delete(job.id));
    this.polling.set(job.id, poll);
    // A failed poll is not a failed job: report what the ledger knows, the client polls again.
    return poll.catch(() => job);
  }

  /** tasks/get: the job, polled at most once per poll interval while it is open and not given up on. */
  async get(id: string, ctx: CallContext): Promise<TaskView | null> {
    const r = this.ownRefusal(id, ctx);
    if (r) return this.refusedView(id, r);
    if (id.startsWith('refused_')) return null;
    let job: JobRecord;
    try {
      job = await this.d.ledger.get(id, ctx.principal);
    } catch (err) {
      if (err instanceof MediagenError && (err.code === 'NOT_FOUND' || err.code === 'NOT_OWNER')) return null;
      throw err;
    }
    const open = job.status === 'pending' || job.status === 'running';
    // Given up on, the task stays failed whatever the provider says later: no poll needed for it.
    if (open && taskPhase(job, this.timeoutMs(job), this.d.now()).phase !== 'given_up')
      job = await this.fresh(job, ctx);
    return this.view(job);
  }

  private async run(tool: string, args: Record<string, unknown>, ctx: CallContext): Promise<ToolResult> {
    const t = this.d.jobTools.get(tool);
    if (!t) throw new MediagenError('INTERNAL', `${tool} is missing.`);
    try {
      return await t.run(args, ctx, {});
    } catch (err) {
      return toToolResult(err) as ToolResult;
    }
  }

  /** tasks/result: exactly jobs_wait's answer for the finished job (URLs, resource_links, structured content). */
  async result(id: string, ctx: CallContext): Promise<ToolResult> {
    const r = this.ownRefusal(id, ctx);
    if (r) return r.result;
    try {
      const job = await this.d.ledger.get(id, ctx.principal);
      const timeoutMs = this.timeoutMs(job);
      if (taskPhase(job, timeoutMs, this.d.now()).phase === 'given_up')
        return toToolResult(
          new MediagenError('JOB_TIMEOUT', givenUpMessage(job, timeoutMs), {
            job_id: job.id,
            provider_job_id: job.providerJobId,
            status: job.status,
          }),
        ) as ToolResult;
    } catch (err) {
      return toToolResult(err) as ToolResult;
    }
    return this.run('jobs_wait', { job_id: id }, ctx);
  }

  /** tasks/cancel: jobs_cancel (at the provider where its catalogue documents a cancel route). */
  async cancel(id: string, ctx: CallContext): Promise<void> {
    const r = await this.run('jobs_cancel', { job_id: id }, ctx);
    if (r.isError) {
      const text = r.content.find((c) => c.type === 'text');
      throw new MediagenError('NOT_SUPPORTED', text?.type === 'text' ? text.text : 'The job could not be cancelled.');
    }
  }

  /** tasks/list: the caller's own jobs, newest first. */
  async list(cursor: string | undefined, ctx: CallContext): Promise<{ tasks: TaskView[]; nextCursor?: string }> {
    const page = await this.d.ledger.list({ principal: ctx.principal, limit: 50, cursor });
    return { tasks: page.jobs.map((j) => this.view(j)), nextCursor: page.nextCursor };
  }
}
