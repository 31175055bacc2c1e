/** jobs_get, jobs_wait, jobs_cancel, jobs_list: one set of job tools across every provider. */
import { z } from 'zod';
import { MediagenError } from '../errors.js';
import type { JobLedger } from '../jobs/ledger.js';
import type { DownloadReport, Downloader } from '../jobs/downloader.js';
import { mayChange } from '../jobs/owner.js';
import { waitForJob } from '../jobs/wait.js';
import { noLinks, type LinkMaker } from '../outputs/links.js';
import { isStoreUnavailable } from '../store/outage.js';
import { JOB_STATUSES, type JobRecord, type Store } from '../store/store.js';
import { defineTool } from './define.js';
import type { ServerTool, ToolResult } from './handler.js';
import { jobResult, jobStructured, pollAfter, reservationFor } from './job-view.js';

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
  /** Downloads into the output folder; `byDefault`: download without being asked. */
  downloader: Downloader;
  downloadByDefault: boolean;
  /**
   * Keeps a succeeded job's outputs in the output store while the caller waits (at most budgetMs; the
   * background worker keeps whatever is left), so results can show stored_url at once. Unset when
   * outputs are not kept.
   */
  keep?: (job: JobRecord, signal: AbortSignal, budgetMs: number) => Promise<JobRecord>;
  /** The kept outputs' links, signed fresh for every answer. */
  links?: LinkMaker;
  /** Adds a succeeded job's previews (thumbnails, audio) to its result (src/previews/); unset: none. */
  previews?: (job: JobRecord, result: ToolResult, budgetMs: number) => Promise<ToolResult>;
}

const jobId = z.string().min(1).max(100).describe('Job id from the create call (job_…).');
/** A download is never given less than this, even when the wait budget is spent. */
const MIN_DOWNLOAD_MS = 2_000;
/** Previews of a job that had already succeeded before this jobs_get: what is not ready is shown later. */
const REREAD_PREVIEW_MS = 3_000;
const download = z.boolean().optional().describe('Also save outputs into the server output folder.');

interface Saved {
  job: JobRecord;
  /** Lines that say what the download did (empty when nothing was asked). */
  note: string;
  extra: Record<string, unknown>;
}

const nums = (ns: number[]): string => ns.join(', ');

/** What a download did, in words for the agent. */
export function downloadNote(r: DownloadReport, timeoutMs: number, maxOutputs: number): string {
  const lines: string[] = [];
  if (r.refused) lines.push(`Nothing downloaded: ${r.refused}.`);
  if (r.saved.length) lines.push(`Downloaded output${r.saved.length > 1 ? 's' : ''} ${nums(r.saved)}.`);
  if (r.already.length) lines.push(`Already downloaded: output${r.already.length > 1 ? 's' : ''} ${nums(r.already)}.`);
  for (const p of r.problems) lines.push(`Output ${p.output} not downloaded: ${p.reason}.`);
  if (r.problems.some((p) => p.reason.includes('not a public address')))
    lines.push(
      'Downloads never reach loopback, private or link-local addresses; an operator can let a named host through with --download-allow.',
    );
  if (r.skipped)
    lines.push(
      `${r.skipped} more output${r.skipped > 1 ? 's' : ''} not downloaded (at most ${maxOutputs} per job, --download-max-outputs); use the URLs.`,
    );
  if (r.inProgress)
    lines.push('Another call is still downloading this job; call again with download: true to see the saved files.');
  else if (!r.complete)
    lines.push(
      `The download did not complete within ${Math.round(timeoutMs / 1000)} s (the partial file was removed); the job and its URLs are below. Call jobs_wait again with download: true to finish it.`,
    );
  return lines.join('\n');
}

async function maybeDownload(
  d: JobsToolDeps,
  job: JobRecord,
  asked: boolean | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Saved> {
  const want = asked ?? d.downloadByDefault;
  if (!want || job.status !== 'succeeded') return { job, note: '', extra: {} };
  if (!d.downloader.settings.dir && job.outputs.some((o) => !o.path))
    throw new MediagenError(
      'NOT_CONFIGURED',
      'Downloads need an output folder (MEDIAGEN_OUTPUT_DIR); the result URLs are in the job.',
      {
        job: jobStructured(job),
      },
    );
  const r = await d.downloader.download(job, timeoutMs, signal);
  return {
    job: r.job,
    note: downloadNote(r, timeoutMs, d.downloader.settings.maxOutputs),
    extra: {
      download: {
        complete: r.complete && !r.inProgress,
        saved: r.saved,
        already: r.already,
        problems: r.problems,
        skipped: r.skipped,
        ...(r.refused ? { refused: r.refused } : {}),
      },
    },
  };
}

/** Keep a succeeded job's outputs within budgetMs (when outputs are kept), before it is shown. */
async function kept(d: JobsToolDeps, job: JobRecord, budgetMs: number, signal: AbortSignal): Promise<JobRecord> {
  return d.keep && job.status === 'succeeded' ? d.keep(job, signal, budgetMs) : job;
}

async function finished(
  d: JobsToolDeps,
  job: JobRecord,
  lead: string,
  extra: Record<string, unknown>,
  /** What is left of the call's budget, for previews (at least MIN_DOWNLOAD_MS). */
  leftMs: number,
): Promise<ToolResult> {
  // What was charged or refunded, for the viewer (the reservation shares the job's id).
  const charge = (await reservationFor(d.store, job)) ?? null;
  if (job.status === 'failed')
    throw new MediagenError(
      'JOB_FAILED',
      `Job ${job.id} (${job.tool}) failed: ${job.error ?? 'no reason given'}.`,
      jobStructured(job, undefined, charge),
    );
  const result = jobResult(
    job,
    lead,
    { ...extra, ...pollAfter(d.ledger, job) },
    await (d.links ?? noLinks)(job),
    charge,
  );
  return d.previews && job.status === 'succeeded' ? d.previews(job, result, Math.max(MIN_DOWNLOAD_MS, leftMs)) : result;
}

/**
 * A store outage while a job tool reads or polls: the job is not touched by it (it keeps running at the
 * provider, its price stays as it was), and the answer names the job to come back to.
 */
async function aboutJob<T>(jobIdArg: string, run: () => Promise<T>, cancelling = false): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    throw new MediagenError(
      'STORE_UNAVAILABLE',
      `${err.message.replace(/; nothing was written\. Try again shortly\.$/, '')}: ${
        cancelling
          ? `job ${jobIdArg} may or may not have been cancelled; ask jobs_get shortly`
          : `the read failed; job ${jobIdArg} is unaffected (it keeps running at the provider). Ask again shortly`
      }.`,
      { ...err.details, job_id: jobIdArg },
    );
  }
}

export function jobsTools(d: JobsToolDeps): ServerTool[] {
  const get = defineTool({
    name: 'jobs_get',
    title: 'Job status',
    description: 'Check a job once (one status poll) and return its status and result URLs.',
    shape: { job_id: jobId, download },
    readOnly: true,
    idempotent: true,
    run: (a, ctx) =>
      aboutJob(a.job_id, async () => {
        const started = d.now();
        const job0 = await d.ledger.poll(a.job_id, ctx.signal, ctx.principal);
        // Keeping gets what is left of the call's budget after the poll (the worker finishes the rest).
        const polled = await kept(d, job0, Math.max(0, d.waitBudgetMs - (d.now() - started)), ctx.signal);
        const left = Math.max(MIN_DOWNLOAD_MS, d.waitBudgetMs - (d.now() - started));
        const { job, note, extra } = await maybeDownload(d, polled, a.download, left, ctx.signal);
        const lead = `Job ${job.id} (${job.tool}): ${job.status}${job.providerStatus ? ` (${job.providerStatus})` : ''}.`;
        // A job that had succeeded before this call (not this call's poll) gives its previews a short budget.
        const before = job0.status === 'succeeded' && job0.finishedAt !== null && job0.finishedAt < started;
        const previewMs = d.waitBudgetMs - (d.now() - started);
        const text = note ? `${lead}\n${note}` : lead;
        return finished(d, job, text, extra, before ? Math.min(REREAD_PREVIEW_MS, previewMs) : previewMs);
      }),
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
    run: (a, ctx, req) =>
      aboutJob(a.job_id, async () => {
        const started = d.now();
        const budgetMs = a.wait_seconds !== undefined ? a.wait_seconds * 1000 : d.waitBudgetMs;
        const { job, done } = await waitForJob(d.ledger, a.job_id, {
          budgetMs,
          owner: ctx.principal,
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
            { done: false, ...pollAfter(d.ledger, job) },
            undefined,
            (await reservationFor(d.store, job)) ?? null,
          );
        // Keeping gets what is left of the wait budget (the worker finishes the rest); the download then gets
        // what is left, at least 2 s, for a job that just finished.
        const left = (): number => Math.max(MIN_DOWNLOAD_MS, budgetMs - (d.now() - started));
        const stored = await kept(d, job, Math.max(0, budgetMs - (d.now() - started)), ctx.signal);
        const saved = await maybeDownload(d, stored, a.download, left(), ctx.signal);
        const lead = `Job ${saved.job.id} (${saved.job.tool}) ${saved.job.status}.`;
        return finished(
          d,
          saved.job,
          saved.note ? `${lead}\n${saved.note}` : lead,
          saved.extra,
          budgetMs - (d.now() - started),
        );
      }),
  });

  const cancel = defineTool({
    name: 'jobs_cancel',
    title: 'Cancel a job',
    description: 'Cancel a running job at the provider, where the provider offers cancelling.',
    shape: { job_id: jobId },
    readOnly: false,
    idempotent: true,
    destructive: true,
    run: (a, ctx) =>
      aboutJob(
        a.job_id,
        async () => {
          // Another principal's job is NOT_FOUND; between stdio processes of one user, cancel is the creator's.
          const owned = await d.ledger.get(a.job_id, ctx.principal);
          if (owned.callerId.startsWith('stdio:') && !mayChange(owned.callerId, ctx.callerId))
            throw new MediagenError(
              'NOT_OWNER',
              `Job ${owned.id} was started by another caller (${owned.callerId}), which is still running; only it can cancel the job. Nothing was sent.`,
              { job_id: owned.id },
            );
          const wasFinal = owned.status !== 'pending' && owned.status !== 'running';
          const job = await d.ledger.cancel(a.job_id, ctx.signal, ctx.principal);
          const credits =
            !wasFinal && job.status === 'cancelled' && job.price
              ? ` Its ${job.price} credits stay committed: ${job.provider} documents no refund for cancelled jobs.`
              : '';
          return jobResult(
            job,
            `Job ${job.id} is ${job.status}.${credits}`,
            pollAfter(d.ledger, job),
            await (d.links ?? noLinks)(job),
            (await reservationFor(d.store, job)) ?? null,
          );
        },
        true,
      ),
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
    run: async (a, ctx) => {
      const page = await d.ledger
        .list({
          principal: ctx.principal,
          status: a.status as JobRecord['status'] | undefined,
          provider: a.provider,
          since: a.since ? Date.parse(a.since) : undefined,
          until: a.until ? Date.parse(a.until) : undefined,
          limit: a.limit,
          cursor: a.cursor,
        })
        .catch((e: unknown) => {
          // Only a cursor that does not decode is the caller's fault; a store outage stays STORE_UNAVAILABLE.
          if (e instanceof Error && !(e instanceof MediagenError) && /^bad cursor/.test(e.message))
            throw new MediagenError('BAD_ARGUMENTS', `jobs_list: ${e.message}`);
          throw e;
        });
      const lines = page.jobs.map((j) => `${j.id}  ${j.status}  ${j.tool}  ${new Date(j.createdAt).toISOString()}`);
      if (page.nextCursor) lines.push(`More: call jobs_list with cursor "${page.nextCursor}".`);
      return {
        content: [{ type: 'text', text: lines.length ? lines.join('\n') : 'No jobs match.' }],
        // With the kept outputs' links (signed now), which outlive the providers' URLs the gallery shows.
        structuredContent: {
          jobs: await Promise.all(
            page.jobs.map(async (j) => jobStructured(j, await (d.links ?? noLinks)(j), undefined, true)),
          ),
          next_cursor: page.nextCursor ?? null,
        },
      };
    },
  });
  return [get, wait, cancel, list];
}
