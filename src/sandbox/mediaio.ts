/**
 * Media.io OpenAPI wire imitation (see ../shared/providers/mediaio.md). Base URL `<sandbox>/mediaio`.
 *
 * Every route is POST with header `X-API-KEY` and a JSON body; every answer the API itself gives is
 * HTTP 200 with an envelope `{code, msg, data, trace_id}` where `code != 0` is a failure:
 *   POST /user/credits                          {}            -> data {credits}
 *   POST /generation/<vendor>/<model_code>      {"data":{…}}  -> data {task_id}
 *   POST /generation/result/{task_id}           {}            -> data {task_id, status, reason, result[]}
 * Codes used: 40001 invalid key, 40003 task not found, 490000 params error, 490505 insufficient credits.
 * Gateway-level answers are not envelopes' business: 404/405 JSON, 429 JSON + Retry-After, 503 HTML.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { findFaults, rejectingFault, serviceUnavailable, RATE_LIMIT_HEADERS } from './faults.js';
import type { Job, JobOutcome, JobPhase } from './jobs.js';
import type { MediaKind } from './media.js';
import {
  headerValue,
  isRecord,
  jsonReply,
  type ParsedRequest,
  type ProviderModule,
  type Reply,
  type RequestInfo,
  type SandboxContext,
  safeDecode,
} from './types.js';

const NAME = 'mediaio';
const TASK_PREFIX = 'mio-';
/**
 * The balance the sandbox account starts with. Media.io documents no per-call price, so the sandbox
 * charges nothing unless a create's prompt carries `sandbox:charge<N>`: then N credits leave the
 * balance when that job completes (failed jobs cost nothing), so observed prices can be tested.
 */
export const SANDBOX_CREDITS = 1000;

const CHARGE = /sandbox:charge(\d{1,6})/i;
/** Credits charged so far, per sandbox job table (one per sandbox instance). */
const charged = new WeakMap<object, number>();

function balanceOf(ctx: SandboxContext): number {
  return SANDBOX_CREDITS - (charged.get(ctx.jobs) ?? 0);
}

export const ROUTES = {
  credits: '/user/credits',
  result: '/generation/result/{task_id}',
  create: '/generation/{vendor}/{model_code}',
} as const;

const RESULT_PATH = /^\/generation\/result\/([^/]+)$/;
const CREATE_PATH = /^\/generation\/([a-z0-9-]+)\/([a-z0-9-]+)$/;

export const REASONS = {
  failure: 'sandbox: generation failed (content policy)',
  timeout: 'sandbox: generation timed out',
  cancelled: 'sandbox: task cancelled',
} as const;

type Matched =
  | { route: typeof ROUTES.credits }
  | { route: typeof ROUTES.result; taskId: string }
  | { route: typeof ROUTES.create; vendor: string; modelCode: string };

function match(path: string): Matched | undefined {
  if (path === ROUTES.credits) return { route: ROUTES.credits };
  const r = RESULT_PATH.exec(path);
  if (r) return { route: ROUTES.result, taskId: safeDecode(r[1]) };
  const c = CREATE_PATH.exec(path);
  if (c) return { route: ROUTES.create, vendor: c[1], modelCode: c[2] };
  return undefined;
}

function envelope(ctx: SandboxContext, code: number, msg: string, data: Record<string, unknown> = {}): Reply {
  return jsonReply(200, { code, msg, data, trace_id: ctx.traceId() });
}

function paramsError(ctx: SandboxContext, detail?: string): Reply {
  return envelope(ctx, 490000, detail ? `params error: ${detail}` : 'params error');
}

export const mediaio: ProviderModule = {
  name: NAME,

  inspect(_method: string, path: string, headers: IncomingHttpHeaders, key: string): RequestInfo {
    return { route: match(path)?.route, authorized: headerValue(headers, 'x-api-key') === key };
  },

  async handle(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
    const m = match(req.path);
    if (!m) {
      return jsonReply(404, { code: 404, msg: 'Not Found', data: {}, trace_id: ctx.traceId() });
    }
    if (req.method !== 'POST') {
      return jsonReply(
        405,
        { code: 405, msg: 'Method Not Allowed', data: {}, trace_id: ctx.traceId() },
        { Allow: 'POST' },
      );
    }
    if (!req.authorized) return envelope(ctx, 40001, 'Invalid API key');
    if (req.body.kind === 'invalid') return paramsError(ctx, 'body is not valid JSON');
    switch (m.route) {
      case ROUTES.credits:
        return envelope(ctx, 0, '', { credits: balanceOf(ctx) });
      case ROUTES.result:
        return result(m.taskId, ctx);
      case ROUTES.create:
        return create(req, m.vendor, m.modelCode, ctx);
    }
  },
};

async function create(req: ParsedRequest, vendor: string, modelCode: string, ctx: SandboxContext): Promise<Reply> {
  const body = req.body.kind === 'json' ? req.body.value : undefined;
  if (!isRecord(body) || !isRecord(body.data)) return paramsError(ctx, 'body must be {"data": {...}}');
  const data = body.data;
  const faults = findFaults(data.prompt);

  if (faults.has('slow') && !(await ctx.stall(ctx.slowMs))) return { abandoned: true };

  switch (rejectingFault(faults)) {
    case '429':
      return jsonReply(
        429,
        { code: 429, msg: 'Too Many Requests', data: {}, trace_id: ctx.traceId() },
        { ...RATE_LIMIT_HEADERS },
      );
    case '5xx':
      return serviceUnavailable();
    case 'credits':
      return envelope(ctx, 490505, 'Insufficient credits');
    case 'badparams':
      return paramsError(ctx);
    default:
      break;
  }

  const outcome: JobOutcome = faults.has('fail') ? 'failure' : faults.has('timeout') ? 'timeout' : 'success';
  const output: MediaKind = /^(t2i|i2i)-/.test(modelCode) ? 'png' : 'mp4';
  const job = ctx.jobs.create(NAME, TASK_PREFIX, outcome, {
    vendor,
    modelCode,
    inputs: data,
    output,
    count: resultCount(data.counts),
    objectResult: faults.has('objectresult'),
    charge: typeof data.prompt === 'string' ? Number(CHARGE.exec(data.prompt)?.[1] ?? 0) : 0,
  });
  return envelope(ctx, 0, '', { task_id: job.id });
}

/** Imagen's `counts` ("1".."4", a string on the wire) sets how many results a task yields. */
function resultCount(counts: unknown): number {
  const n = typeof counts === 'string' ? Number.parseInt(counts, 10) : typeof counts === 'number' ? counts : 1;
  return Number.isInteger(n) ? Math.min(4, Math.max(1, n)) : 1;
}

function result(taskId: string, ctx: SandboxContext): Reply {
  const polled = ctx.jobs.poll(NAME, taskId);
  if (!polled) return envelope(ctx, 40003, 'Task not found');
  const { status, reason } = statusOf(polled.phase, polled.job.outcome);
  const list = status === 'completed' ? resultList(polled.job, ctx) : [];
  const charge = polled.job.meta.charge;
  if (status === 'completed' && typeof charge === 'number' && charge > 0 && polled.job.meta.charged !== true) {
    polled.job.meta.charged = true;
    charged.set(ctx.jobs, (charged.get(ctx.jobs) ?? 0) + charge);
  }
  // The catalogue declares `result` an object: `sandbox:objectresult` answers in that shape instead.
  const results = polled.job.meta.objectResult === true ? objectResult(list) : list;
  return envelope(ctx, 0, '', { task_id: taskId, status, reason, result: results });
}

function statusOf(phase: JobPhase, outcome: JobOutcome): { status: string; reason: string } {
  switch (phase) {
    case 'queued':
      return { status: 'waiting', reason: '' };
    case 'running':
      return { status: 'processing', reason: '' };
    case 'cancelled':
      return { status: 'failed', reason: REASONS.cancelled };
    case 'done':
      if (outcome === 'failure') return { status: 'failed', reason: REASONS.failure };
      if (outcome === 'timeout') return { status: 'timeout', reason: REASONS.timeout };
      return { status: 'completed', reason: 'success' };
  }
}

interface ResultItem {
  val: string;
  preview: string;
  /** Video results: a cover image (the answer reported for Media.io; not in its published file). */
  cover?: string;
  status: number;
}

function resultList(job: Job, ctx: SandboxContext): ResultItem[] {
  const kind: MediaKind = job.meta.output === 'png' ? 'png' : 'mp4';
  const count = typeof job.meta.count === 'number' ? job.meta.count : 1;
  const d = new Date(job.createdAt);
  const day = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  const out: ResultItem[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      val: `/aigc/${day}/${job.id}-${i}.${kind}`,
      preview: `${ctx.mediaUrl(kind, job)}?task=${job.id}&n=${i}`,
      ...(kind === 'mp4' ? { cover: `${ctx.mediaUrl('cover', job)}?task=${job.id}&n=${i}` } : {}),
      status: 1,
    });
  }
  return out;
}

/** The same outputs as an object whose URL fields are not `preview`: `{outputs: {files: [{url}]}, count}`. */
function objectResult(list: { val: string; preview: string }[]): Record<string, unknown> {
  return { count: list.length, outputs: { files: list.map((r) => ({ path: r.val, url: r.preview })) } };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
