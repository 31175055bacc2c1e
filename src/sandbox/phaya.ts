/**
 * Phaya Media API wire imitation (see ../shared/providers/phaya.md and seeds 000/001). Base URL
 * `<sandbox>/phaya/api/v1` (provider base `https://api.phaya.io/api/v1`); the OpenAI-compatible proxy
 * lives at the host root, `<sandbox>/phaya/v1/...`.
 *
 * Auth `Authorization: Bearer <key>` on every route except `GET /text-to-speech/voices` and the
 * provider-webhook `/callback`s; a missing/wrong key is HTTP 401 `{"detail": ...}` (not documented:
 * FastAPI's HTTPBearer answer). Routing comes first, as in FastAPI: unknown path 404
 * `{"detail": "Not Found"}`, wrong method 405 `{"detail": "Method Not Allowed"}` + Allow.
 * Route families: job services (phaya-services.ts, phaya-jobs.ts), account and listings
 * (phaya-account.ts), LLM and embeddings (phaya-chat.ts). Errors and faults: phaya-replies.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { credits, creditsHistory, invalidateCache, profile, supportedPlatforms, voices } from './phaya-account.js';
import {
  embeddingCreate,
  embeddingPricing,
  openaiChat,
  openaiEmbeddings,
  openaiModels,
  openaiResponses,
  phayaGptChat,
  phayaGptModels,
  phayaGptPricing,
} from './phaya-chat.js';
import {
  callback,
  cancelJob,
  characterList,
  createJob,
  history,
  jobStatus,
  mediaKind,
  mediaQueueStats,
  mediaStatus,
  mediaUpload,
  serviceKind,
  NAME,
} from './phaya-jobs.js';
import { errorReply, unauthorized, type Dialect } from './phaya-replies.js';
import { MEDIA_OPS, SERVICES } from './phaya-services.js';
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

const API = '/api/v1';

type Handler = (req: ParsedRequest, ctx: SandboxContext, param: string) => Reply | Promise<Reply>;

interface Route {
  method: 'GET' | 'POST';
  /** e.g. `/api/v1/text-to-image/status/{job_id}` (also the stats key). */
  template: string;
  pattern: RegExp;
  auth: boolean;
  dialect: Dialect;
  run: Handler;
}

function route(method: Route['method'], template: string, run: Handler, auth = true): Route {
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_]+\}/g, '([^/]+)');
  const dialect: Dialect = template.startsWith('/v1/') ? 'openai' : 'fastapi';
  return { method, template, pattern: new RegExp(`^${source}$`), auth, dialect, run };
}

function buildRoutes(): Route[] {
  const routes: Route[] = [];
  for (const svc of SERVICES) {
    const kind = serviceKind(svc);
    const base = `${API}/${svc.slug}`;
    routes.push(route('POST', `${base}/${svc.verb}`, (req, ctx) => createJob(req, kind, ctx)));
    routes.push(route('GET', `${base}/status/{job_id}`, (_req, ctx, id) => jobStatus(kind, id, ctx)));
    if (svc.cancel) routes.push(route('POST', `${base}/cancel/{job_id}`, (_req, ctx, id) => cancelJob(kind, id, ctx)));
    if (svc.history) routes.push(route('GET', `${base}/history`, (req, ctx) => history(kind, req, ctx)));
    if (svc.callback) routes.push(route('POST', `${base}/callback`, () => callback(), false));
  }
  for (const op of Object.keys(MEDIA_OPS)) {
    const kind = mediaKind(op);
    routes.push(route('POST', `${API}/media/${op}`, (req, ctx) => createJob(req, kind, ctx)));
  }
  routes.push(
    route('POST', `${API}/media/upload`, (_req, ctx) => mediaUpload(ctx)),
    route('GET', `${API}/media/status/{job_id}`, (_req, ctx, id) => mediaStatus(id, ctx)),
    route('GET', `${API}/media/queue/stats`, (_req, ctx) => mediaQueueStats(ctx)),
    route('GET', `${API}/text-to-speech/voices`, () => voices(), false),
    route('GET', `${API}/sora2-character/list`, (_req, ctx) => characterList(ctx)),
    route('GET', `${API}/video-download/supported-platforms`, () => supportedPlatforms()),
    route('GET', `${API}/user/profile`, () => profile()),
    route('GET', `${API}/user/credits`, () => credits()),
    route('GET', `${API}/user/credits/history`, (req) => creditsHistory(req)),
    route('POST', `${API}/user/credits/invalidate-cache`, () => invalidateCache()),
    route('POST', `${API}/phaya-gpt/chat/completions`, (req, ctx) => phayaGptChat(req, ctx)),
    route('GET', `${API}/phaya-gpt/models`, () => phayaGptModels()),
    route('GET', `${API}/phaya-gpt/pricing`, () => phayaGptPricing()),
    route('POST', `${API}/embedding/create`, (req, ctx) => embeddingCreate(req, ctx)),
    route('GET', `${API}/embedding/pricing`, () => embeddingPricing()),
    route('POST', '/v1/chat/completions', (req, ctx) => openaiChat(req, ctx)),
    route('GET', '/v1/models', () => openaiModels()),
    route('POST', '/v1/embeddings', (req, ctx) => openaiEmbeddings(req, ctx)),
    route('POST', '/v1/responses', (req, ctx) => openaiResponses(req, ctx)),
  );
  return routes;
}

/** Every route the sandbox serves for Phaya. */
export const PHAYA_ROUTES: readonly Route[] = buildRoutes();

/** The routes whose template matches `path` (several only if they differ by method), and the path parameter. */
function match(path: string): { routes: Route[]; param: string } | undefined {
  let param = '';
  const routes = PHAYA_ROUTES.filter((r) => {
    const m = r.pattern.exec(path);
    if (m && m[1] !== undefined) param = safeDecode(m[1]);
    return m !== null;
  });
  return routes.length > 0 ? { routes, param } : undefined;
}

/** The bearer token, if the Authorization header is `Bearer <token>` (scheme case-insensitive). */
function bearer(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '');
  return m ? m[1] : undefined;
}

function pick(routes: Route[], method: string): Route | undefined {
  return routes.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
}

export const phaya: ProviderModule = {
  name: NAME,

  inspect(method: string, path: string, headers: IncomingHttpHeaders, key: string): RequestInfo {
    const m = match(path);
    const r = m ? (pick(m.routes, method) ?? m.routes[0]) : undefined;
    return { route: r?.template, authorized: bearer(headers) === key };
  },

  async handle(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
    const m = match(req.path);
    if (!m) return errorReply('fastapi', 404, 'Not Found');
    const r = pick(m.routes, req.method);
    if (!r) {
      const allow = [...new Set(m.routes.map((x) => x.method))].join(', ');
      return jsonReply(405, { detail: 'Method Not Allowed' }, { Allow: allow });
    }
    if (r.auth && !req.authorized)
      return unauthorized(r.dialect, headerValue(req.headers, 'authorization') !== undefined);
    return r.run(req, ctx, m.param);
  },
};
