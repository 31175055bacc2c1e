/**
 * The completion hook a paid create may carry: over HTTP with --public-url, an operation whose job block
 * names a `webhookParam` that the caller left out is sent with `<public-url>/hooks/<capability>`. The
 * caller's arguments stay what consent, idempotency, the arguments hash and the ledger see; only the
 * request carries the hook, and only the capability's hash is recorded on the job.
 */
import type { Operation } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';
import { hookUrl, newCapability } from '../jobs/webhook.js';

export interface Hooked {
  /** What is sent to the provider: the caller's arguments, plus the hook when one was added. */
  sent: Readonly<Record<string, unknown>>;
  /** SHA-256 of the capability, for the job record; undefined when no hook was added. */
  hash?: string;
  /** The capability itself (scrubbed from errors); never stored. */
  secret?: string;
}

/** The request's arguments for this create: `args` as they are, or with this server's hook added. */
export function withHook(op: Operation, args: Readonly<Record<string, unknown>>, publicUrl?: string): Hooked {
  const param = op.job?.webhookParam;
  if (!publicUrl || !param || (args[param] !== undefined && args[param] !== null)) return { sent: args };
  const cap = newCapability();
  return { sent: { ...args, [param]: hookUrl(publicUrl, cap.secret) }, hash: cap.hash, secret: cap.secret };
}

/**
 * An error of the create request with the capability taken out of its message and details (a provider
 * that echoes the request in an error body must not put it in a result or a log line).
 */
export function scrubbed(err: unknown, secret: string | undefined): unknown {
  if (!secret || !(err instanceof MediagenError)) return err;
  const hide = (s: string): string => s.split(secret).join('[hook]');
  const details = JSON.stringify(err.details);
  if (!err.message.includes(secret) && !details.includes(secret)) return err;
  const e = new MediagenError(err.code, hide(err.message), JSON.parse(hide(details)) as Record<string, unknown>);
  e.stack = err.stack === undefined ? undefined : hide(err.stack);
  return e;
}
