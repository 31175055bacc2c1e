/**
 * mediagen_worker_lag_seconds is the lag of this process's worker: over the jobs it leases (its providers
 * and principals) only, through a real SQLite store, a real Worker's filter and the real Metrics. A job of
 * a provider without a key here, or of a principal this process does not poll, never makes it grow.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from '../../src/jobs/worker.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { timedStore } from '../../src/metrics/timed-store.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { sample } from '../helpers/metrics.js';
import { makeJob } from '../store/contract-fixtures.js';

const NOW = 1_800_000_000_000;
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('mediagen_worker_lag_seconds', () => {
  it('counts only jobs this worker can poll; absent in a process without a worker', async () => {
    const opened = await openStore({ stateDir: join(mkdtempSync(join(tmpdir(), 'mediagen-lag-')), 'state') });
    const metrics = new Metrics({ now: () => NOW });
    store = timedStore(opened, metrics);
    const worker = new Worker({
      store,
      logger: silentLogger,
      now: () => NOW,
      concurrency: 1,
      pollerFor: () => undefined,
      providers: ['phaya'],
      principals: ['local'],
    });
    metrics.pollsFor(() => worker.pollFilter());
    const job = (id: string, provider: string, principal: string, overdueMs: number) =>
      makeJob({ id, provider, principal, status: 'running', createdAt: NOW - overdueMs, nextPollAt: NOW - overdueMs });
    // A provider with no key here, and a principal not polled here (an OAuth subject not seen yet): long overdue.
    await store.insertJob(job('job_nokey', 'mediaio', 'local', 3_600_000));
    await store.insertJob(job('job_other', 'phaya', 'bob', 7_200_000));
    const lag = async (m: Metrics) => sample(await m.text(), 'mediagen_worker_lag_seconds');
    expect(await lag(metrics)).toBe(0);
    // One it can poll, a minute overdue.
    await store.insertJob(job('job_mine', 'phaya', 'local', 60_000));
    expect(await lag(metrics)).toBe(60);

    const noWorker = new Metrics({ now: () => NOW });
    noWorker.watch(opened);
    const body = await noWorker.text();
    expect(sample(body, 'mediagen_store_up')).toBe(1);
    expect(await lag(noWorker)).toBeUndefined();
  });
});
