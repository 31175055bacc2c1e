/** Errors with stable codes. Every failure a tool can report is one of these. */
export const ERROR_CODES = [
  'BAD_ARGUMENTS',
  'CONFIRMATION_REQUIRED',
  'CONSENT_DECLINED',
  'CONSENT_TIMEOUT',
  'APPROVAL_INVALID',
  'BUDGET_EXCEEDED',
  'IDEMPOTENCY_CONFLICT',
  'OUTCOME_UNKNOWN',
  'IN_PROGRESS',
  'PROVIDER_AUTH',
  'INSUFFICIENT_CREDITS',
  'PROVIDER_REJECTED',
  'PROVIDER_HTTP',
  'PROVIDER_TIMEOUT',
  'RATE_LIMITED',
  'JOB_FAILED',
  'JOB_TIMEOUT',
  'NOT_FOUND',
  'NOT_OWNER',
  'NOT_SUPPORTED',
  'NOT_CONFIGURED',
  'STORE_UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

export class MediagenError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  /** The result's `_meta`: for a view (an MCP App), not for the model (e.g. a pending approval). */
  readonly meta?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, meta?: Record<string, unknown>) {
    super(message);
    this.name = 'MediagenError';
    this.code = code;
    this.details = details;
    if (meta) this.meta = meta;
  }
}

/** A bad catalogue, price file or config: start-up stops with this message and exit code 2. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface ToolErrorResult {
  [key: string]: unknown;
  isError: true;
  content: { type: 'text'; text: string }[];
  structuredContent: { code: ErrorCode; message: string } & Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

/** Any thrown value -> an `isError` tool result "<CODE>: <message>" with structuredContent. */
export function toToolResult(err: unknown): ToolErrorResult {
  const e =
    err instanceof MediagenError
      ? err
      : new MediagenError('INTERNAL', 'Internal error; see the server log for details.');
  const extra = e.details.hint ? `\n${String(e.details.hint)}` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${e.code}: ${e.message}${extra}` }],
    structuredContent: { code: e.code, message: e.message, ...e.details },
    ...(e.meta ? { _meta: e.meta } : {}),
  };
}
