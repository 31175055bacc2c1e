/** jobs_get, jobs_wait, jobs_cancel, jobs_list: one set of job tools across every provider. */
import { z } from 'zod';
import { MediagenError } from '../errors.js';
import type { JobLedger } from '../jobs/ledger.js';
import { mayChange } from '../jobs/owner.js';
import { downloadOutput } from '../jobs/results.js';
import { waitForJob } from '../jobs/wait.js';
import { JOB_STATUSES, type JobRecord, type Store } from '../store/store.js';
import { defineTool } from './define.js';
import type { ServerTool, ToolResult } from './handler.js';
import { jobResult, jobStructured } from './job-view.js';

export interface DownloadSettings {
  /** Absolute output folder; downloads are refused when unset. */
  dir?: string;
  maxBytes: number;
  timeoutMs: number;
  /** Download without being asked. */
  byDefault: boolean;
}

export interface JobsToolDeps {
  ledger: JobLedger;
  store: Store;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Default and maximum wait of one jobs_wait call. */
  waitBudgetMs: number;
  maxWaitMs: number;
  /** Poll interval override (sandbox, tests); otherwise the catalogue's. */
  intervalMs?: number;
  download: DownloadSettings;
}

const jobId = z.string().min(1).max(100).describe('Job id from the create call (job_…).');
const download = z.boolean().optional().describe('Also save outputs into the server output folder.');

async function maybeDownload(
  d: JobsToolDeps,
  job: JobRecord,
  asked: boolean | undefined,
  signal: AbortSignal,
): Promise<JobRecord> {
  const want = asked ?? d.download.byDefault;
  if (!want || job.status !== 'succeeded' || job.outputs.every((o) => o.path)) return job;
  const dir = d.download.dir;
  if (!dir)
    throw new MediagenError(
      'NOT_CONFIGURED',
      'Downloads need an output folder (MEDIAGEN_OUTPUT_DIR); the result URLs are in the job.',
      {
        job: jobStructured(job),
      },
    );
  const outputs = [];
  for (const [i, o] of job.outputs.entries()) {
    if (o.path || !/^https?:\/\//.test(o.url)) outputs.push(o);
    else
      outputs.push({
        ...o,
        path: await downloadOutput(job.id, i + 1, o, {
          dir,
          maxBytes: d.download.maxBytes,
          timeoutMs: d.download.timeoutMs,
          signal,
        }),
      });
  }
  return (await d.store.updateJob(job.id, { outputs }, d.now())) ?? job;
}

function finished(job: JobRecord, lead: string): ToolResult {
  if (job.status === 'failed')
    throw new MediagenError(
      'JOB_FAILED',
      `Job ${job.id} (${job.tool}) failed: ${job.error ?? 'no reason given'}.`,
      jobStructured(job),
    );
  return jobResult(job, lead);
}

export function jobsTools(d: JobsToolDeps): ServerTool[] {
  const get = defineTool({
    name: 'jobs_get',
    title: 'Job status',
    description: 'Check a job once (one status poll) and return its status and result URLs.',
    shape: { job_id: jobId, download },
    readOnly: true,
    idempotent: true,
    run: async (a, ctx) => {
      const job = await maybeDownload(d, await d.ledger.poll(a.job_id, ctx.signal), a.download, ctx.signal);
      return finished(
        job,
        `Job ${job.id} (${job.tool}): ${job.status}${job.providerStatus ? ` (${job.providerStatus})` : ''}.`,
      );
    },
  });

  const wait = defineTool({
    name: 'jobs_wait',
    title: 'Wait for a job',
    description: `Wait up to wait_seconds (default ${Math.round(d.waitBudgetMs / 1000)}) for a job; returns the result URLs, or the running job (call again).`,
    shape: {
      job_id: jobId,
      wait_seconds: z
        .number()
        .int()
        .min(0)
        .max(Math.round(d.maxWaitMs / 1000))
        .optional(),
      download,
    },
    readOnly: true,
    idempotent: true,
    run: async (a, ctx, req) => {
      const budgetMs = a.wait_seconds !== undefined ? a.wait_seconds * 1000 : d.waitBudgetMs;
      const { job, done } = await waitForJob(d.ledger, a.job_id, {
        budgetMs,
        signal: ctx.signal,
        progress: req.progress,
        now: d.now,
        sleep: d.sleep,
        intervalMs: d.intervalMs,
      });
      if (!done)
        return jobResult(
          job,
          `Job ${job.id} is still ${job.status} after waiting ${Math.round(budgetMs / 1000)} s; this is normal for video.`,
          {
            done: false,
          },
        );
      const saved = await maybeDownload(d, job, a.download, ctx.signal);
      return finished(saved, `Job ${saved.id} (${saved.tool}) ${saved.status}.`);
    },
  });

  const cancel = defineTool({
    name: 'jobs_cancel',
    title: 'Cancel a job',
    description: 'Cancel a running job at the provider, where the provider offers cancelling.',
    shape: { job_id: jobId },
    readOnly: false,
    idempotent: true,
    destructive: true,
    run: async (a, ctx) => {
      const owned = await d.ledger.get(a.job_id);
      if (!mayChange(owned.callerId, ctx.callerId))
        throw new MediagenError(
          'NOT_OWNER',
          `Job ${owned.id} was started by another caller (${owned.callerId}), which is still running; only it can cancel the job. Nothing was sent.`,
          { job_id: owned.id },
        );
      const wasFinal = owned.status !== 'pending' && owned.status !== 'running';
      const job = await d.ledger.cancel(a.job_id, ctx.signal);
      const credits =
        !wasFinal && job.status === 'cancelled' && job.price
          ? ` Its ${job.price} credits stay committed: ${job.provider} documents no refund for cancelled jobs.`
          : '';
      return jobResult(job, `Job ${job.id} is ${job.status}.${credits}`);
    },
  });

  const list = defineTool({
    name: 'jobs_list',
    title: 'List jobs',
    description: 'Jobs in the ledger, newest first; filter by status, provider and creation time.',
    shape: {
      status: z.enum(JOB_STATUSES as [string, ...string[]]).optional(),
      provider: z.string().max(40).optional(),
      since: z.string().datetime({ offset: true }).optional().describe('ISO time, inclusive.'),
      until: z.string().datetime({ offset: true }).optional().describe('ISO time, exclusive.'),
      limit: z.number().int().min(1).max(100).default(20),
      cursor: z.string().max(500).optional(),
    },
    readOnly: true,
    idempotent: true,
    run: async (a) => {
      const page = await d.ledger
        .list({
          status: a.status as JobRecord['status'] | undefined,
          provider: a.provider,
          since: a.since ? Date.parse(a.since) : undefined,
          until: a.until ? Date.parse(a.until) : undefined,
          limit: a.limit,
          cursor: a.cursor,
        })
        .catch((e: unknown) => {
          throw new MediagenError('BAD_ARGUMENTS', `jobs_list: ${(e as Error).message}`);
        });
      const lines = page.jobs.map((j) => `${j.id}  ${j.status}  ${j.tool}  ${new Date(j.createdAt).toISOString()}`);
      if (page.nextCursor) lines.push(`More: call jobs_list with cursor "${page.nextCursor}".`);
      return {
        content: [{ type: 'text', text: lines.length ? lines.join('\n') : 'No jobs match.' }],
        structuredContent: { jobs: page.jobs.map(jobStructured), next_cursor: page.nextCursor ?? null },
      };
    },
  });
  return [get, wait, cancel, list];
}
