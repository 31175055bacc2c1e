/**
 * The poll gate's lanes: a job created with a per-request key (--byok) is polled in one lane per key, so a
 * request never joins a poll sent with another key (one account's failure is not handed to another); an
 * ordinary job has one lane, its id (every request polls it with the server's key).
 */
import { describe, expect, it } from 'vitest';
import { gateLane, PollGate } from '../../src/jobs/poll-gate.js';
import type { JobRecord } from '../../src/store/store.js';

const job = (byok: boolean) => ({ id: 'job_1', ...(byok ? { byok: true } : {}) }) as JobRecord;

describe('gateLane', () => {
  it("an ordinary job's polls share its id, whatever key the request sent", () => {
    expect(gateLane(job(false), 'key-a-123456')).toBe('job_1');
    expect(gateLane(job(false), undefined)).toBe('job_1');
  });

  it("a byok job's polls by different keys never join; by the same key they do; the key is not in the lane", async () => {
    const gate = new PollGate(() => 0);
    const a = gateLane(job(true), 'key-a-123456');
    const b = gateLane(job(true), 'key-b-654321');
    expect(a).not.toBe(b);
    expect(a).not.toContain('key-a-123456');
    expect(gateLane(job(true), 'key-a-123456')).toBe(a);
    let fail!: (e: Error) => void;
    const running = gate.run(a, false, () => new Promise<JobRecord>((_, reject) => (fail = reject)));
    expect(gate.joined(b)).toBeUndefined();
    const joined = gate.joined(a);
    expect(joined).toBeDefined();
    fail(new Error('401 from the provider'));
    await expect(running).rejects.toThrow('401');
    await expect(joined).rejects.toThrow('401');
  });
});
