/**
 * What a log line knows about the request it was written for: an AsyncLocalStorage scope opened by the
 * HTTP transport (its request id) and by each tool call (principal, tool, the MCP request id), and filled
 * in as the call learns more (the job and its price, on the paid path). JSON log lines carry it; the text
 * format is unchanged. Never a secret: ids and names only (the redactor still runs on every line).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LogContext {
  request_id?: string;
  principal?: string;
  tool?: string;
  job?: string;
  price?: string;
}

const scope = new AsyncLocalStorage<LogContext>();

/** Run `fn` in a scope that inherits the enclosing one's fields and adds these. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...fields }, fn);
}

/** Add fields to the current scope (no-op outside one). */
export function noteLog(fields: LogContext): void {
  const ctx = scope.getStore();
  if (ctx) Object.assign(ctx, fields);
}

export function logContext(): LogContext | undefined {
  return scope.getStore();
}
