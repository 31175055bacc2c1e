/**
 * How Phaya answers when something is wrong, and how the sandbox's scripted faults look on its wire.
 * The skill shows no error body at all; it does say "Phaya is a FastAPI backend", so the native
 * routes use FastAPI's `{"detail": ...}` (HTTPException) and 422 `{"detail": [...]}` (validation).
 * The OpenAI-compatible proxy at the host root (`/v1/...`) answers errors the OpenAI way,
 * `{"error": {message, type, param, code}}`, so OpenAI SDKs pointed at it read them (also a guess).
 */
import {
  findFaults,
  findFaultsIn,
  rejectingFault,
  serviceUnavailable,
  RATE_LIMIT_HEADERS,
  type Fault,
} from './faults.js';
import type { Issue } from './phaya-validate.js';
import { jsonReply, type Reply, type SandboxContext } from './types.js';

/** Which error dialect a route speaks. */
export type Dialect = 'fastapi' | 'openai';

export const MESSAGES = {
  badKey: 'Invalid API key',
  noKey: 'Not authenticated',
  credits: 'Insufficient credits',
  rateLimit: 'Rate limit exceeded: 60 per 1 minute',
  jobNotFound: 'Job not found',
  failed: 'sandbox: generation failed (upstream provider error); credits refunded',
} as const;

/** An OpenAI-style error type per HTTP status. */
function openaiType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'insufficient_quota';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function errorReply(
  dialect: Dialect,
  status: number,
  message: string,
  headers?: Record<string, string>,
  code: string | null = null,
): Reply {
  const body =
    dialect === 'fastapi' ? { detail: message } : { error: { message, type: openaiType(status), param: null, code } };
  return jsonReply(status, body, headers);
}

/** 401: FastAPI's HTTPBearer-style answer, with its `WWW-Authenticate: Bearer` header. */
export function unauthorized(dialect: Dialect, keySent: boolean): Reply {
  return errorReply(
    dialect,
    401,
    keySent ? MESSAGES.badKey : MESSAGES.noKey,
    { 'WWW-Authenticate': 'Bearer' },
    'invalid_api_key',
  );
}

/** 422 with Pydantic issues (native routes) or a 400 invalid_request_error (proxy). */
export function invalidBody(dialect: Dialect, detail: Issue[]): Reply {
  if (dialect === 'fastapi') return jsonReply(422, { detail });
  const first = detail[0];
  const param = first ? first.loc.filter((p) => p !== 'body').join('.') : '';
  const message = first ? `${param || 'body'}: ${first.msg}` : 'Invalid request body';
  return jsonReply(400, { error: { message, type: 'invalid_request_error', param: param || null, code: null } });
}

/** The faults a create body carries: its `prompt` when the route has one, else any string in it. */
export function faultsOf(body: Record<string, unknown>, hasPrompt: boolean): Set<Fault> {
  return hasPrompt ? findFaults(body.prompt) : findFaultsIn(body);
}

/**
 * Play the faults that act before a job exists: stall for `sandbox:slow` (abandoned if the client
 * leaves), then 429 / 503 / 402 / 422 in faults.ts's precedence. `undefined` means: go ahead.
 */
export async function rejectByFaults(
  faults: Set<Fault>,
  dialect: Dialect,
  ctx: SandboxContext,
  input: unknown,
): Promise<Reply | undefined> {
  if (faults.has('slow') && !(await ctx.stall(ctx.slowMs))) return { abandoned: true };
  switch (rejectingFault(faults)) {
    case '429':
      return errorReply(dialect, 429, MESSAGES.rateLimit, { ...RATE_LIMIT_HEADERS }, 'rate_limit_exceeded');
    case '5xx':
      return serviceUnavailable();
    case 'credits':
      return errorReply(dialect, 402, MESSAGES.credits, undefined, 'insufficient_credits');
    case 'badparams':
      return invalidBody(dialect, [
        {
          type: 'value_error',
          loc: ['body'],
          msg: 'Value error, sandbox: parameters rejected',
          input,
          ctx: { error: 'sandbox: parameters rejected' },
        },
      ]);
    default:
      return undefined;
  }
}
