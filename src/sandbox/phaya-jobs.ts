/**
 * Phaya's async job routes: create (`/generate` or `/create`) -> `{"job_id": "<uuid>"}` exactly as the
 * skill shows it; `/status/{job_id}` -> `{"status": ..., "<media>_url": ...}` (the skill's
 * `{ "status": "...", "<media>_url": "..." }`: result fields appear once COMPLETED, `error` once
 * FAILED, nothing else meanwhile); `/cancel/{job_id}`; `/history`; provider `/callback`s.
 */
import { randomUUID } from 'node:crypto';
import type { Job, JobPhase } from './jobs.js';
import { errorReply, faultsOf, invalidBody, rejectByFaults, MESSAGES } from './phaya-replies.js';
import { MEDIA_OPS, type Family, type Output, type Service } from './phaya-services.js';
import { validateBody, type Fields } from './phaya-validate.js';
import { jsonReply, type ParsedRequest, type Reply, type SandboxContext } from './types.js';

export const NAME = 'phaya';

/** A job-making route: a documented service, or one of the FFmpeg media ops (`media:<op>`). */
export interface JobKind {
  key: string;
  family: Family;
  output: Output | (typeof MEDIA_OPS)[string];
  fields: Fields;
}

export function serviceKind(s: Service): JobKind {
  return { key: s.slug, family: s.family, output: s.output, fields: s.fields };
}

export function mediaKind(op: string): JobKind {
  return { key: `media:${op}`, family: 'lower', output: MEDIA_OPS[op], fields: {} };
}

export async function createJob(req: ParsedRequest, kind: JobKind, ctx: SandboxContext): Promise<Reply> {
  const v = validateBody(req.body, kind.fields);
  if (!v.ok) return invalidBody('fastapi', v.detail);
  const faults = faultsOf(v.value, 'prompt' in kind.fields);
  const rejected = await rejectByFaults(faults, 'fastapi', ctx, v.value);
  if (rejected) return rejected;
  // Phaya has no timeout status: `sandbox:timeout` ends FAILED like `sandbox:fail`.
  const outcome = faults.has('fail') || faults.has('timeout') ? 'failure' : 'success';
  const job = ctx.jobs.create(NAME, '', outcome, { kind: kind.key, inputs: v.value }, randomUUID());
  return jsonReply(200, { job_id: job.id });
}

/** The job `id` if it exists and was made by this route family; the status route counts a poll. */
function findJob(kind: JobKind, id: string, ctx: SandboxContext, poll: boolean): Job | undefined {
  const job = ctx.jobs.get(NAME, id);
  if (!job || job.meta.kind !== kind.key) return undefined;
  if (poll) ctx.jobs.poll(NAME, id);
  return job;
}

export function jobStatus(kind: JobKind, id: string, ctx: SandboxContext): Reply {
  const job = findJob(kind, id, ctx, true);
  if (!job) return errorReply('fastapi', 404, MESSAGES.jobNotFound);
  return jsonReply(200, statusBody(kind, job, ctx));
}

function statusBody(kind: JobKind, job: Job, ctx: SandboxContext): Record<string, unknown> {
  const phase = ctx.jobs.phaseOf(job);
  const status = statusWord(kind.family, phase, job, ctx.pollsToComplete);
  if (phase === 'done' && job.outcome === 'success') return { status, ...results(kind, job, ctx) };
  if (phase === 'done') return { status, error: MESSAGES.failed };
  return { status };
}

/**
 * Status words by family. Poll 1 is PENDING (upper) / processing (lower); then PROCESSING, except
 * that image/music jobs show QUEUED on poll 2 when pollsToComplete >= 4, so all five words occur.
 */
export function statusWord(family: Family, phase: JobPhase, job: Job, pollsToComplete: number): string {
  const upper = family !== 'lower';
  switch (phase) {
    case 'cancelled':
      return upper ? 'FAILED' : 'cancelled';
    case 'done':
      if (job.outcome === 'success') return upper ? 'COMPLETED' : 'completed';
      return upper ? 'FAILED' : 'failed';
    case 'queued':
      return upper ? 'PENDING' : 'processing';
    case 'running':
      if (!upper) return 'processing';
      return family === 'upper5' && job.polls === 2 && pollsToComplete >= 4 ? 'QUEUED' : 'PROCESSING';
  }
}

function inputs(job: Job): Record<string, unknown> {
  const v = job.meta.inputs;
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

/** The result fields of a completed job, reflecting its inputs. URLs point at the sandbox's media. */
function results(kind: JobKind, job: Job, ctx: SandboxContext): Record<string, unknown> {
  const url = (media: 'png' | 'wav' | 'mp4', n = 0, extra = ''): string =>
    `${ctx.mediaUrl(media, job)}?job=${job.id}&n=${n}${extra}`;
  const input = inputs(job);
  switch (kind.output) {
    case 'image':
    case 'image_url':
      return { image_url: url('png') };
    case 'nano':
      return { image_url: url('png'), image_urls: [url('png')] };
    case 'video':
    case 'video_url':
      return { video_url: url('mp4') };
    case 'veo':
      // KIE.ai serves 1080p for 16:9 only; other ratios come back 720p (the skill names the field only).
      return {
        video_url: url('mp4'),
        origin_url: url('mp4', 0, '&origin=1'),
        resolution: input.aspect_ratio === '16:9' ? '1080p' : '720p',
      };
    case 'seedance':
      return input.generate_audio === true
        ? { video_url: url('mp4'), audio_url: url('wav') }
        : { video_url: url('mp4') };
    case 'music':
      return { audio_url: url('wav'), audio_urls: [url('wav', 0), url('wav', 1)] };
    case 'speech':
    case 'audio_url':
      return { audio_url: url('wav') };
    case 'character':
      return { character_id: characterId(job) };
    case 'download': {
      const audio = input.format === 'mp3' || input.quality === 'audio';
      return { download_url: url(audio ? 'wav' : 'mp4') };
    }
    case 'text':
      return { text: 'sandbox transcript: hello from the sandbox.' };
  }
}

export function characterId(job: Job): string {
  return `char_${job.id.replace(/-/g, '').slice(0, 16)}`;
}

export function cancelJob(kind: JobKind, id: string, ctx: SandboxContext): Reply {
  const job = findJob(kind, id, ctx, false);
  if (!job) return errorReply('fastapi', 404, MESSAGES.jobNotFound);
  if (ctx.jobs.cancel(NAME, id)) {
    return jsonReply(200, { success: true, message: 'Job cancelled; credits refunded' });
  }
  const word = statusWord(kind.family, ctx.jobs.phaseOf(job), job, ctx.pollsToComplete);
  return jsonReply(400, { success: false, message: `Job cannot be cancelled: status is ${word}` });
}

/**
 * `/history` (shape not documented): newest first, `limit` (default 20, at most 100) from the query,
 * each item the status body plus `job_id`, `prompt` and `created_at`. Listing does not count a poll.
 */
export function history(kind: JobKind, req: ParsedRequest, ctx: SandboxContext): Reply {
  const limit = clampLimit(req.query.get('limit'));
  const jobs = ctx.jobs
    .list(NAME)
    .filter((j) => j.meta.kind === kind.key)
    .reverse();
  const items = jobs.slice(0, limit).map((job) => ({
    job_id: job.id,
    prompt: inputs(job).prompt ?? null,
    created_at: new Date(job.createdAt).toISOString(),
    ...statusBody(kind, job, ctx),
  }));
  return jsonReply(200, { success: true, jobs: items, total: jobs.length });
}

export function clampLimit(raw: string | null): number {
  const n = raw === null ? 20 : Number.parseInt(raw, 10);
  return Number.isInteger(n) ? Math.min(100, Math.max(1, n)) : 20;
}

/** Sora 2 characters that finished (`GET /sora2-character/list`; shape not documented). */
export function characterList(ctx: SandboxContext): Reply {
  const characters = ctx.jobs
    .list(NAME)
    .filter((j) => j.meta.kind === 'sora2-character' && ctx.jobs.phaseOf(j) === 'done' && j.outcome === 'success')
    .map((job) => ({
      character_id: characterId(job),
      job_id: job.id,
      character_prompt: inputs(job).character_prompt ?? null,
      created_at: new Date(job.createdAt).toISOString(),
    }));
  return jsonReply(200, { success: true, characters, total: characters.length });
}

/** `POST /<svc>/callback`: KIE.ai's webhook into Phaya. No user key; the sandbox just acknowledges. */
export function callback(): Reply {
  return jsonReply(200, { success: true, message: 'Callback received' });
}

/** `GET /media/queue/stats` (shape not documented): counts of the media-op jobs by status word. */
export function mediaQueueStats(ctx: SandboxContext): Reply {
  const counts = { processing: 0, completed: 0, failed: 0 };
  for (const job of ctx.jobs.list(NAME)) {
    if (typeof job.meta.kind !== 'string' || !job.meta.kind.startsWith('media:')) continue;
    const word = statusWord('lower', ctx.jobs.phaseOf(job), job, ctx.pollsToComplete);
    if (word === 'processing' || word === 'completed' || word === 'failed') counts[word] += 1;
  }
  return jsonReply(200, { success: true, queue: counts });
}

/**
 * `POST /media/upload` (body not documented; likely multipart): answered synchronously with a URL
 * the sandbox serves. Any body is accepted, JSON or not.
 */
export function mediaUpload(ctx: SandboxContext): Reply {
  return jsonReply(200, { success: true, url: `${ctx.mediaUrl('png')}?upload=${randomUUID()}` });
}

/** `GET /media/status/{job_id}`: any FFmpeg media-op job. */
export function mediaStatus(id: string, ctx: SandboxContext): Reply {
  const kind = ctx.jobs.get(NAME, id)?.meta.kind;
  if (typeof kind !== 'string' || !kind.startsWith('media:')) return errorReply('fastapi', 404, MESSAGES.jobNotFound);
  return jobStatus(mediaKind(kind.slice('media:'.length)), id, ctx);
}
