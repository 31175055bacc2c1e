/**
 * The task status of a job is a pure function of its ledger record and the time: these check that a
 * status once reported terminal stays terminal across the clocks of several replicas.
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, LATE_GRACE_MS, taskPhase } from '../../src/tools/task-status.js';
import type { JobRecord } from '../../src/store/store.js';
import { makeJob } from '../store/contract-fixtures.js';

const LIMIT = 10 * 60_000;
const T0 = Date.UTC(2026, 11, 1);
const GIVE_UP = T0 + LIMIT + LATE_GRACE_MS;

const job = (over: Partial<JobRecord> = {}): JobRecord =>
  makeJob({ id: 'job_1', status: 'running', createdAt: T0, updatedAt: T0, ...over });

describe('task status of a late job', () => {
  it('working past our limit, failed for good past the grace time', () => {
    expect(taskPhase(job(), LIMIT, T0 + LIMIT + 1)).toMatchObject({ status: 'working', phase: 'late' });
    expect(taskPhase(job(), LIMIT, GIVE_UP + 1)).toMatchObject({ status: 'failed', phase: 'given_up' });
  });

  it('a replica whose clock is behind records the success just before the give-up time: still failed', () => {
    // Replica A (clock ahead) reported the task failed at its GIVE_UP + 1; replica B then records the
    // provider's success stamped with its own clock, a minute earlier.
    expect(taskPhase(job(), LIMIT, GIVE_UP + 1).status).toBe('failed');
    const done = job({ status: 'succeeded', finishedAt: GIVE_UP - 60_000, updatedAt: GIVE_UP - 60_000 });
    expect(taskPhase(done, LIMIT, GIVE_UP + 2).status).toBe('failed');
  });

  it('a success recorded well before the give-up time completes the task', () => {
    const done = job({ status: 'succeeded', finishedAt: GIVE_UP - CLOCK_SKEW_MS - 1 });
    expect(taskPhase(done, LIMIT, GIVE_UP + 1).status).toBe('completed');
    expect(taskPhase(job({ status: 'succeeded', finishedAt: T0 + 1 }), LIMIT, T0 + 2).status).toBe('completed');
  });
});
