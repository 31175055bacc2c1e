/**
 * MCP Tasks over the job ledger: a task is a job (the task id is our job id, so it survives restarts and
 * is visible to every replica), seen by its owner only. tasks/get polls the job once (as jobs_get does),
 * tasks/result is jobs_wait's answer, tasks/cancel is jobs_cancel, tasks/list is jobs_list. The guarded
 * create (price, consent, caps, one request) has already happened when a task exists; a create the guard
 * refused becomes a task that is already failed, whose result is the refusal (no job, nothing sent).
 */
import { randomUUID } from 'node:crypto';
import { MediagenError, toToolResult } from '../errors.js';
import type { JobLedger } from '../jobs/ledger.js';
import type { JobRecord } from '../store/store.js';
import type { CallContext, ServerTool, ToolResult } from './handler.js';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

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
}

interface Refused {
  principal: string;
  result: ToolResult;
  at: number;
}

/** Refusals are kept in memory for this long (they stand for no job and no spend). */
const REFUSED_TTL_MS = 10 * 60_000;

const STATUS: Record<JobRecord['status'], TaskStatus> = {
  pending: 'working',
  running: 'working',
  succeeded: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class JobTasks {
  private readonly refused = new Map<string, Refused>();

  constructor(private readonly d: JobTasksDeps) {}

  view(job: JobRecord): TaskView {
    const word = job.providerStatus ? ` (${job.providerStatus})` : '';
    const pct = job.progress !== null ? `, ${job.progress}%` : '';
    let pollInterval = this.d.pollMs;
    if (pollInterval === undefined) {
      try {
        pollInterval = this.d.ledger.spec(job).spec.pollSeconds * 1000;
      } catch {
        pollInterval = 5_000;
      }
    }
    return {
      taskId: job.id,
      status: STATUS[job.status],
      statusMessage: `${job.tool}: ${job.status}${word}${pct}${job.error ? `: ${job.error}` : ''}`,
      createdAt: iso(job.createdAt),
      lastUpdatedAt: iso(job.updatedAt),
      ttl: null,
      pollInterval,
    };
  }

  /** A create the guard (or the provider) refused: a task already failed, its result the refusal. */
  refuse(result: ToolResult, principal: string): TaskView {
    const now = this.d.now();
    for (const [id, r] of this.refused) if (now - r.at > REFUSED_TTL_MS) this.refused.delete(id);
    const taskId = `refused_${randomUUID()}`;
    this.refused.set(taskId, { principal, result, at: now });
    return this.refusedView(taskId, this.refused.get(taskId)!);
  }

  private refusedView(taskId: string, r: Refused): TaskView {
    const text = r.result.content.find((c) => c.type === 'text');
    return {
      taskId,
      status: 'failed',
      statusMessage: text?.type === 'text' ? text.text : 'refused',
      createdAt: iso(r.at),
      lastUpdatedAt: iso(r.at),
      ttl: REFUSED_TTL_MS,
    };
  }

  private ownRefusal(id: string, ctx: CallContext): Refused | undefined {
    const r = this.refused.get(id);
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

  /** tasks/get: one status poll of a job still running (like jobs_get); the ledger's record otherwise. */
  async get(id: string, ctx: CallContext): Promise<TaskView | null> {
    const r = this.ownRefusal(id, ctx);
    if (r) return this.refusedView(id, r);
    if (this.refused.has(id)) return null;
    let job: JobRecord;
    try {
      job = await this.d.ledger.get(id, ctx.principal);
    } catch (err) {
      if (err instanceof MediagenError && (err.code === 'NOT_FOUND' || err.code === 'NOT_OWNER')) return null;
      throw err;
    }
    if (job.status === 'pending' || job.status === 'running') {
      try {
        job = await this.d.ledger.poll(id, ctx.signal, ctx.principal);
      } catch {
        // A failed poll is not a failed job: report what the ledger knows, the client polls again.
      }
      // Past its time limit the job is over for the client too (tasks/result then answers JOB_TIMEOUT).
      if ((job.status === 'pending' || job.status === 'running') && this.d.ledger.expired(job))
        return {
          ...this.view(job),
          status: 'failed',
          statusMessage: `JOB_TIMEOUT: ${job.tool} ran past its time limit`,
        };
    }
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
