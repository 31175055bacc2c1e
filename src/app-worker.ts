/**
 * The background worker of a serving process, as `serve` builds it from the configuration (stdio: over its
 * one app; HTTP: over every principal's app). One-shot commands never make one.
 */
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { Worker, type Poller } from './jobs/worker.js';
import type { JobRecord, Store } from './store/store.js';

/** The poll interval that overrides the catalogues' pollSeconds: MEDIAGEN_POLL_MS, or 250 ms in sandbox mode. */
export function pollOverride(config: Config): number | undefined {
  return config.pollMs ?? (config.sandbox ? 250 : undefined);
}

/**
 * The background worker of a serving process (undefined with --no-worker): polls the due jobs of `store`
 * through `pollerFor` (the job principal's app), leasing only jobs of `providers` and `principals` (what it
 * can poll: another process sharing the store polls the rest). The caller starts it, and stops it before the apps.
 */
export function createWorker(
  config: Config,
  logger: Logger,
  store: Store,
  pollerFor: (job: JobRecord) => Poller | undefined,
  providers?: readonly string[],
  principals?: readonly string[],
): Worker | undefined {
  if (!config.worker) return undefined;
  return new Worker({
    store,
    logger,
    concurrency: config.workerConcurrency,
    leaseMs: config.workerLeaseMs,
    intervalMs: pollOverride(config),
    pollerFor,
    providers,
    principals,
  });
}
