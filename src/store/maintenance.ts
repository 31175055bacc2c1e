/**
 * Store maintenance: expired consent tokens and approvals, and idempotency keys older than their window are purged at
 * start and then on a timer. Reservations and jobs are the ledger and are kept.
 */
import type { Logger } from '../log.js';
import type { Store } from './store.js';

export interface MaintenanceOptions {
  /** Idempotency keys older than this are forgotten (default 24 h). */
  retentionMs: number;
  /** How often to purge (default hourly). */
  everyMs?: number;
  now?: () => number;
  logger: Logger;
}

/** Purges once now, then every `everyMs`; returns a stop function. Failures are logged, never thrown. */
export function startMaintenance(store: Store, o: MaintenanceOptions): () => void {
  const now = o.now ?? Date.now;
  const run = async (): Promise<void> => {
    try {
      const t = now();
      const n = await store.purge({ tokensBefore: t, keysBefore: t - o.retentionMs });
      if (n.tokens || n.keys || n.approvals) o.logger.info('store maintenance: purged', { ...n });
    } catch (err) {
      o.logger.warn('store maintenance failed; will retry', { error: String(err) });
    }
  };
  void run();
  const timer = setInterval(() => void run(), o.everyMs ?? 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
