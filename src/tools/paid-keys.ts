/**
 * Idempotency keys of the paid path: a key is claimed before anything else; a repeat gets the job of the
 * first call, IN_PROGRESS while it is in flight, or OUTCOME_UNKNOWN when its outcome is unknown.
 */
import { MediagenError } from '../errors.js';
import type { Quote } from '../guard/price.js';
import type { Store } from '../store/store.js';
import type { PaidCall, PaidOutcome } from './paid.js';

/** How long a duplicate call waits for the first call with the same idempotency_key to settle. */
const DUPLICATE_WAIT_MS = 3_000;

export interface KeyDeps {
  store: Store;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A pending claim older than this belongs to a process that died mid-call. */
  staleMs: number;
}

/** Keys are scoped to the principal in the store: another principal's key is simply a different key. */
export function scopedKey(principal: string, key: string): string {
  return `${principal}/${key}`;
}

export async function claimKey(d: KeyDeps, c: PaidCall, hash: string, quote: Quote): Promise<PaidOutcome | undefined> {
  const key = c.idempotencyKey;
  if (!key) return undefined;
  const waitUntil = d.now() + DUPLICATE_WAIT_MS;
  for (;;) {
    const claim = await d.store.claimIdempotency(scopedKey(c.principal, key), c.tool.name, hash, d.now());
    if (claim.state === 'new') return undefined;
    const r = claim.record;
    if (claim.state === 'conflict')
      throw new MediagenError(
        'IDEMPOTENCY_CONFLICT',
        `idempotency_key was already used with ${r.tool === c.tool.name ? 'other arguments' : `another tool (${r.tool})`}. Nothing was sent.`,
      );
    if (r.jobId) {
      const job = await d.store.getJob(r.jobId);
      if (job) return { kind: 'job', job, quote, reused: true };
      throw new MediagenError(
        'IDEMPOTENCY_CONFLICT',
        `A call with idempotency_key "${key}" was already answered at ${new Date(r.createdAt).toISOString()}; answers are not kept, so nothing new was sent or charged. Use a new key to ask again.`,
        { idempotency_key: key },
      );
    }
    const started = new Date(r.createdAt).toISOString();
    const inFlight = r.outcome === 'pending' && d.now() - r.createdAt < d.staleMs;
    if (!inFlight)
      throw new MediagenError(
        'OUTCOME_UNKNOWN',
        `A call with idempotency_key "${key}" started at ${started} and its outcome is unknown (the provider may have accepted it; the answer was lost or unreadable). Nothing new was sent.`,
        {
          idempotency_key: key,
          ...(r.reservationId ? { reservation: r.reservationId } : {}),
          hint: 'Check spend_report and the provider dashboard before using a new key.',
        },
      );
    if (d.now() >= waitUntil || c.signal.aborted)
      throw new MediagenError(
        'IN_PROGRESS',
        `A call with idempotency_key "${key}" started at ${started} is still in flight. Nothing new was sent.`,
        { idempotency_key: key, hint: 'Call again with the same idempotency_key in a few seconds to get its job.' },
      );
    await d.sleep(100);
  }
}
