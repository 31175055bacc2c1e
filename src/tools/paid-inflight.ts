/**
 * Paid requests in flight, around the money path: best-effort writes after a refusal or an unknown
 * outcome, marking a call accepted, and settling what is still in flight at shutdown (accepted calls to
 * the journal first, the rest left uncertain).
 */
import type { Budget } from '../guard/budget.js';
import type { AcceptedEntry, AcceptedJournal } from '../jobs/journal.js';
import type { Logger } from '../log.js';
import { isStoreUnavailable } from '../store/outage.js';
import type { Store } from '../store/store.js';
import { keepAccepted } from './paid-accept.js';
import type { PaidInflight } from './paid-outcome.js';

export interface InflightDeps {
  inflight: PaidInflight;
  budget: Budget;
  store: Store;
  logger: Logger;
  journal: AcceptedJournal;
}

/**
 * Writes after a refusal or an unknown outcome: when the store fails too, what the caller is told stands.
 * Returns whether the write went through; a failure is logged by `cleanUp` (once per reservation).
 */
export async function bestEffort(
  d: Pick<InflightDeps, 'logger'>,
  what: string,
  write: () => Promise<void>,
  reservation?: string,
): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    d.logger.warn(`store write failed (${what})`, {
      ...(reservation ? { reservation } : {}),
      error: err instanceof Error ? err.message : String(err),
      ...(isStoreUnavailable(err) ? { store_unavailable: true } : {}),
    });
    return false;
  }
}

/** The writes that undo a refused call (release, give back, free): the names of those that failed. */
export type Undo = 'reservation' | 'approval' | 'key';

/**
 * Run the undo writes of one refused call; what failed is logged once (warn, with the reservation id, as
 * it is what is left behind: a reserved row, a used approval, a bound key) and returned.
 */
export async function cleanUp(
  d: Pick<InflightDeps, 'logger'>,
  reservation: string | undefined,
  steps: readonly (readonly [Undo, (() => Promise<void>) | undefined])[],
): Promise<Undo[]> {
  const failed: Undo[] = [];
  const errors: string[] = [];
  for (const [name, write] of steps) {
    if (!write) continue;
    try {
      await write();
    } catch (err) {
      failed.push(name);
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (failed.length)
    d.logger.warn(`store writes failed undoing a refused call (${failed.join(', ')}); they are left as they were`, {
      ...(reservation ? { reservation } : {}),
      error: errors[0],
    });
  return failed;
}

/** The provider accepted: mark it so; once shutdown has settled the calls in flight, journal it at once. */
export function accepted(d: Pick<InflightDeps, 'inflight' | 'journal' | 'logger'>, e: AcceptedEntry): void {
  if (!d.inflight.accept(e.reservation, e)) keepAccepted(d, e, 'the provider answered after the server began to stop');
}

/**
 * Settle every paid request still in flight (shutdown past its deadline, lost transport): one the provider
 * accepted goes to the journal (recorded when the store is back); any other is left uncertain.
 */
export async function settleInflight(d: InflightDeps): Promise<string[]> {
  const left = d.inflight.list();
  d.inflight.stop();
  // Accepted calls first, to the journal (a local file, no store): a hung store must not keep them out.
  for (const c of left) {
    d.inflight.delete(c.reservation);
    if (c.accepted) keepAccepted(d, c.accepted, 'the server stopped before the store recorded it');
  }
  await Promise.all(
    left
      .filter((c) => !c.accepted)
      .map(async (c) => {
        await bestEffort(d, 'mark the reservation uncertain', () => d.budget.uncertain(c.reservation), c.reservation);
        const key = c.idempotencyKey;
        if (key)
          await bestEffort(
            d,
            'keep the key bound',
            () => d.store.markIdempotencyUnknown(key, c.reservation),
            c.reservation,
          );
        d.logger.warn('paid request still in flight at shutdown; its reservation is left uncertain', {
          tool: c.tool,
          reservation: c.reservation,
        });
      }),
  );
  return left.map((c) => c.reservation);
}
