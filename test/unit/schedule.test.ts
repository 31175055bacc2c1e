/** When a job is polled next (schedule.ts): the interval, backoff after errors, the slow rate past the limit, giving up. */
import { describe, expect, it } from 'vitest';
import { loadConfig, USAGE } from '../../src/config.js';
import {
  giveUpAt,
  LATE_GRACE_MS,
  MAX_BACKOFF_MS,
  nextPollAt,
  pollTiming,
  SLOW_POLL_MS,
} from '../../src/jobs/schedule.js';

const spec = { pollSeconds: 4, timeoutMinutes: 15 };
const job = { createdAt: 1_000_000 };

describe('the poll schedule', () => {
  it('polls at the interval within the time limit, and doubles the delay after each error up to 10 min', () => {
    const t = pollTiming(spec);
    const now = job.createdAt + 60_000;
    expect(nextPollAt(job, t, now)).toBe(now + 4_000);
    expect(nextPollAt(job, t, now, 1)).toBe(now + 8_000);
    expect(nextPollAt(job, t, now, 3)).toBe(now + 32_000);
    expect(nextPollAt(job, t, now, 40)).toBe(now + MAX_BACKOFF_MS);
  });

  it('past the limit polls every 10 min (interval × 20 with an override), never later than the give-up time', () => {
    const t = pollTiming(spec);
    const late = job.createdAt + 15 * 60_000 + 1;
    expect(nextPollAt(job, t, late)).toBe(late + SLOW_POLL_MS);
    const o = pollTiming(spec, 100);
    expect(o).toMatchObject({ pollMs: 100, slowMs: 2_000 });
    expect(nextPollAt(job, o, late)).toBe(late + 2_000);
    const end = giveUpAt(job, t);
    expect(end).toBe(job.createdAt + 15 * 60_000 + LATE_GRACE_MS);
    expect(nextPollAt(job, t, end - 1_000)).toBe(end);
  });

  it('gives up 48 h past the limit: no next poll', () => {
    const t = pollTiming(spec);
    expect(nextPollAt(job, t, giveUpAt(job, t))).toBeNull();
    expect(nextPollAt(job, t, giveUpAt(job, t) + 1, 3)).toBeNull();
  });
});

describe('the worker settings', () => {
  it('lease 60 s by default, MEDIAGEN_WORKER_LEASE_MS in the environment, at least 500 ms; said in --help', () => {
    expect(loadConfig([], { MEDIAGEN_STATE_DIR: '/tmp/x' }).config).toMatchObject({
      worker: true,
      workerConcurrency: 4,
      workerLeaseMs: 60_000,
    });
    const c = loadConfig(['--no-worker', '--worker-concurrency', '8'], {
      MEDIAGEN_STATE_DIR: '/tmp/x',
      MEDIAGEN_WORKER_LEASE_MS: '1500',
    }).config;
    expect(c).toMatchObject({ worker: false, workerConcurrency: 8, workerLeaseMs: 1_500 });
    expect(loadConfig([], { MEDIAGEN_STATE_DIR: '/tmp/x', MEDIAGEN_WORKER: '0' }).config.worker).toBe(false);
    expect(() => loadConfig([], { MEDIAGEN_STATE_DIR: '/tmp/x', MEDIAGEN_WORKER_LEASE_MS: '100' })).toThrow(
      /workerLeaseMs/,
    );
    expect(USAGE).toContain('MEDIAGEN_WORKER_LEASE_MS');
  });
});
