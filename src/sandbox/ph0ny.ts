/**
 * ph0ny Video API wire imitation (see ../shared/providers/ph0ny.md and the Video API page, seeds/003).
 * Base URL `<sandbox>/ph0ny/v1` (provider base `https://persona-labsvoice-api-production.up.railway.app/v1`).
 * Auth `Authorization: Bearer <key>` on everything.
 *
 *   POST /v1/video/generate|avatar|lipsync|dub|analyze
 *        -> 202 {id: "vj_<ULID>", type, status: "pending", provider, created_at, owner_id}  (as the seed shows)
 *   GET  /v1/video/{jobId}
 *        -> 200 the VideoJob of the seed's "Job lifecycle": {id, type, status, provider, progress, result,
 *           error, created_at, completed_at, owner_id}
 *
 * `status` moves pending -> processing -> completed|failed over the polls; `progress` is a FRACTION
 * 0..1 as the seed shows it (`"progress": 0.42`), rising with each poll, 1 when completed. Fields with no
 * value yet (`result`, `error`, `completed_at`) are null. Not documented, so the sandbox's choice: the
 * error body, `{"error": {"code", "message"}}` (shaped like the VideoJob's own `error`), 401 on a bad
 * key, 404 on an unknown job or route. Webhooks: the `webhook_url` a create carried is kept on the job
 * (`meta.webhookUrl`, readable through Sandbox.job) and never called. The sandbox's jobs complete only by
 * being polled, so a hook "on completion" could only follow a poll that already saw the result, and the
 * payload and signature are not documented: sending one would invent both.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import {
  chargeIn,
  findFaults,
  findFaultsIn,
  rejectingFault,
  serviceUnavailable,
  RATE_LIMIT_HEADERS,
} from './faults.js';
import type { Job } from './jobs.js';
import { BYOK_HEADERS, byokEngines, checkVideoBody, type VideoType } from './ph0ny-validate.js';
import {
  headerValue,
  jsonReply,
  type ParsedRequest,
  type ProviderModule,
  type Reply,
  type RequestInfo,
  type SandboxContext,
  safeDecode,
} from './types.js';

const NAME = 'ph0ny';
/** The sandbox account's owner id (the seed elides real ones: `"user_…"`). */
export const OWNER_ID = 'user_sandbox';

export const ROUTES = {
  create: (type: VideoType) => `/v1/video/${type}`,
  job: '/v1/video/{jobId}',
  usage: '/v1/usage',
} as const;

/** The sandbox account's usage (shape from the pricing page: credits used/limit/remaining). */
export const SANDBOX_USAGE = {
  credits: { used: 0, limit: 1000, remaining: 1000 },
  breakdown: { tts: 0, stt: 0, llm: 0, rag: 0 },
  requestCount: 0,
};

const CREATE_PATH = /^\/v1\/video\/(generate|avatar|lipsync|dub|analyze)$/;
const JOB_PATH = /^\/v1\/video\/([^/]+)$/;

type Matched =
  | { route: string; type: VideoType }
  | { route: typeof ROUTES.job; jobId: string }
  | { route: typeof ROUTES.usage; usage: true };

function match(method: string, path: string): Matched | undefined {
  if (path === ROUTES.usage && (method === 'GET' || method === 'HEAD')) return { route: ROUTES.usage, usage: true };
  const c = CREATE_PATH.exec(path);
  if (c && method === 'POST') return { route: ROUTES.create(c[1] as VideoType), type: c[1] as VideoType };
  const j = JOB_PATH.exec(path);
  if (j && (method === 'GET' || method === 'HEAD')) return { route: ROUTES.job, jobId: safeDecode(j[1]) };
  return undefined;
}

function apiError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Reply {
  const headers = status === 429 ? { ...RATE_LIMIT_HEADERS } : undefined;
  return jsonReply(status, { error: { code, message, ...extra } }, headers);
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '');
  return m ? m[1] : undefined;
}

export const ph0ny: ProviderModule = {
  name: NAME,

  inspect(method: string, path: string, headers: IncomingHttpHeaders, key: string): RequestInfo {
    return { route: match(method, path)?.route, authorized: bearer(headers) === key };
  },

  async handle(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
    // Express-style routing: an unknown method/path pair is a 404 (no 405s).
    const m = match(req.method, req.path);
    if (!m) return apiError(404, 'not_found', `Cannot ${req.method} ${req.path}`);
    if (!req.authorized) return apiError(401, 'unauthorized', 'Invalid or missing API key');
    if ('type' in m) return create(req, m.type, ctx);
    if ('usage' in m) return jsonReply(200, usage(ctx));
    return getJob(m.jobId, ctx);
  },
};

async function create(req: ParsedRequest, type: VideoType, ctx: SandboxContext): Promise<Reply> {
  if (req.body.kind === 'invalid') return apiError(400, 'invalid_json', 'request body is not valid JSON');
  const body = req.body.kind === 'json' ? req.body.value : undefined;
  const checked = checkVideoBody(type, body);
  if (!checked.ok) return apiError(400, 'validation_error', checked.error.message, { field: checked.error.field });
  const input = checked.value;
  for (const engine of byokEngines(type, input, checked.provider)) {
    const header = BYOK_HEADERS[engine];
    if (!headerValue(req.headers, header))
      return apiError(400, 'byok_required', `${engine} requires your own key in the ${header} header`, { header });
  }
  // Faults: in `prompt` for generate; the other operations have no prompt, so in any string field.
  const faults = type === 'generate' ? findFaults(input.prompt) : findFaultsIn(input);
  if (faults.has('slow') && !(await ctx.stall(ctx.slowMs))) return { abandoned: true };
  switch (rejectingFault(faults)) {
    case '429':
      return apiError(429, 'rate_limited', 'Too many requests');
    case '5xx':
      return serviceUnavailable();
    case 'credits':
      return apiError(402, 'insufficient_credits', 'Insufficient credits');
    case 'badparams':
      return apiError(400, 'validation_error', 'sandbox: parameters rejected', { field: 'body' });
    default:
      break;
  }
  // No timeout status in ph0ny: `sandbox:timeout` fails the job, with the documented code provider_timeout.
  const outcome = faults.has('timeout') ? 'timeout' : faults.has('fail') ? 'failure' : 'success';
  const job = ctx.jobs.create(
    NAME,
    'vj_',
    outcome,
    {
      type,
      provider: checked.provider,
      inputs: input,
      charge: chargeIn(input),
      webhookUrl: typeof input.webhook_url === 'string' ? input.webhook_url : null,
    },
    ulid(),
  );
  return jsonReply(202, {
    id: job.id,
    type,
    status: 'pending',
    provider: checked.provider,
    created_at: isoSeconds(job.createdAt),
    owner_id: OWNER_ID,
  });
}

/** Credits used so far, per sandbox job table (one per sandbox instance). */
const charged = new WeakMap<object, number>();

/** The usage answer: the fixed shape, less what completed `sandbox:charge<N>` jobs used. */
function usage(ctx: SandboxContext): typeof SANDBOX_USAGE {
  const used = charged.get(ctx.jobs) ?? 0;
  const { limit } = SANDBOX_USAGE.credits;
  return { ...SANDBOX_USAGE, credits: { used, limit, remaining: limit - used } };
}

function getJob(jobId: string, ctx: SandboxContext): Reply {
  const polled = ctx.jobs.poll(NAME, jobId);
  if (!polled) return apiError(404, 'not_found', `Video job ${jobId} not found`);
  const { job, phase } = polled;
  const n = ctx.pollsToComplete;
  const ok = job.outcome === 'success';
  const done = phase === 'done' || phase === 'cancelled';
  if (done && typeof job.meta.completedAt !== 'number') job.meta.completedAt = Date.now();
  // `sandbox:charge<N>` in the inputs: N credits are used when the job completes (failures cost nothing).
  if (phase === 'done' && ok && typeof job.meta.charge === 'number' && job.meta.charge > 0 && !job.meta.charged) {
    job.meta.charged = true;
    charged.set(ctx.jobs, (charged.get(ctx.jobs) ?? 0) + job.meta.charge);
  }
  const status = phase === 'queued' ? 'pending' : phase === 'running' ? 'processing' : ok ? 'completed' : 'failed';
  const progress = done && ok ? 1 : phase === 'queued' ? 0 : round2((done ? n - 1 : job.polls) / n);
  return jsonReply(200, {
    id: job.id,
    type: job.meta.type,
    status,
    provider: job.meta.provider,
    progress,
    result: status === 'completed' ? result(job, ctx) : null,
    error: status === 'failed' ? failure(job) : null,
    created_at: isoSeconds(job.createdAt),
    completed_at: done ? isoSeconds(job.meta.completedAt as number) : null,
    owner_id: OWNER_ID,
  });
}

function failure(job: Job): { code: string; message: string } {
  return job.outcome === 'timeout'
    ? { code: 'provider_timeout', message: 'sandbox: the video engine timed out' }
    : { code: 'provider_error', message: 'sandbox: generation failed' };
}

/**
 * The seed's `result`: {video_url, duration_seconds, width, height, provider}. Generate reflects its
 * inputs; avatar/lipsync/dub (dimensions not documented) report generate's defaults. Analyze makes no
 * video and its result is not documented: the sandbox returns one small section per requested task.
 */
function result(job: Job, ctx: SandboxContext): Record<string, unknown> {
  const input = job.meta.inputs as Record<string, unknown>;
  const provider = job.meta.provider;
  if (job.meta.type === 'analyze') {
    const tasks = new Set(input.tasks as string[]);
    const out: Record<string, unknown> = { provider };
    const text = 'Hello from the sandbox.';
    if (tasks.has('transcribe')) out.transcript = { text, segments: [{ start: 0, end: 1, text }] };
    if (tasks.has('scenes')) out.scenes = [{ start: 0, end: 1, description: 'A colour test pattern.' }];
    if (tasks.has('embed')) out.embeddings = [{ start: 0, end: 1, vector: [0.5, -0.5, 0.5, -0.5] }];
    return out;
  }
  const generate = job.meta.type === 'generate';
  return {
    video_url: `${ctx.mediaUrl('mp4', job)}?job=${job.id}`,
    duration_seconds: generate ? input.duration_seconds : 5,
    width: generate ? input.width : 768,
    height: generate ? input.height : 512,
    provider,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** ISO 8601 to the second, as the seed writes it: `2026-05-05T18:00:00Z`. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (26 Crockford base-32 chars: 48-bit ms time, 80 random bits), as in the seed's `vj_01HM…`. */
export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[rnd[i] % 32];
  return time + random;
}
