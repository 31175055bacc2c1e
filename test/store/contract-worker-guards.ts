/**
 * Store contract, part 9: the guards the background worker's correctness rests on. A status poll's write
 * never changes a final job (`onlyOpen`); leases are taken only for the principals a process can poll;
 * a lease is renewed only by the owner that holds it.
 */
import { describe, expect, it } from 'vitest';
import type { JobRecord, LeaseQuery } from '../../src/store/store.js';
import { makeJob, T0, type StoreRef } from './contract-fixtures.js';

const MIN = 60_000;
const lease = (over: Partial<LeaseQuery> = {}): LeaseQuery => ({
  owner: 'owner-a',
  now: T0,
  leaseMs: MIN,
  limit: 100,
  ...over,
});
const ids = (jobs: JobRecord[]): string[] => jobs.map((j) => j.id);

export function workerGuardsContract(ref: StoreRef): void {
  describe('worker guards', () => {
    it('updateJob onlyOpen writes an open job, and leaves a final one exactly as it was', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1', status: 'running' }));
      const outputs = [{ url: 'https://cdn.example/a.png', kind: 'image' as const, storedKey: 'k/a.png' }];
      const done = await ref.store.updateJob(
        'job_1',
        { status: 'succeeded', outputs, finishedAt: T0 + 10, nextPollAt: null, polls: 1 },
        T0 + 10,
        { onlyOpen: true },
      );
      expect(done).toMatchObject({ status: 'succeeded', finishedAt: T0 + 10, outputs });
      // A stale answer ("processing") read before the job finished, written after.
      const stale = await ref.store.updateJob(
        'job_1',
        { status: 'running', outputs: [], finishedAt: null, nextPollAt: T0 + 99, polls: 1 },
        T0 + 20,
        { onlyOpen: true },
      );
      expect(stale).toBeUndefined();
      expect(await ref.store.getJob('job_1')).toMatchObject({
        status: 'succeeded',
        finishedAt: T0 + 10,
        updatedAt: T0 + 10,
        outputs,
        nextPollAt: null,
      });
      expect(await ref.store.updateJob('job_nope', { status: 'failed' }, T0, { onlyOpen: true })).toBeUndefined();
      // Without the option a final job is still updated (keeping outputs, clearing its next poll time).
      expect(await ref.store.updateJob('job_1', { nextPollAt: T0 + 30 }, T0 + 30)).toMatchObject({
        nextPollAt: T0 + 30,
      });
    });

    it('leases and nextDueAt only for the given principals, and not the excluded jobs', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_a', principal: 'local' }));
      await ref.store.insertJob(makeJob({ id: 'job_b', principal: 'tenant-b', nextPollAt: T0 + 5 }));
      await ref.store.insertJob(makeJob({ id: 'job_c', principal: 'tenant-c', provider: 'other', nextPollAt: T0 + 1 }));
      const now = T0 + 10;
      expect(await ref.store.leaseDueJobs(lease({ now, principals: [] }))).toEqual([]);
      expect(await ref.store.nextDueAt(undefined, [])).toBeUndefined();
      expect(await ref.store.nextDueAt(undefined, ['tenant-b'])).toBe(T0 + 5);
      expect(await ref.store.nextDueAt(['acme'], ['tenant-c'])).toBeUndefined();
      expect(ids(await ref.store.leaseDueJobs(lease({ now, principals: ['tenant-c'], providers: ['acme'] })))).toEqual(
        [],
      );
      expect(ids(await ref.store.leaseDueJobs(lease({ now, principals: ['local', 'tenant-b'] })))).toEqual([
        'job_a',
        'job_b',
      ]);
      expect(
        await ref.store.leaseDueJobs(lease({ owner: 'owner-c', now, principals: ['tenant-c'], exclude: ['job_c'] })),
      ).toEqual([]);
      expect(await ref.store.nextDueAt(undefined, ['tenant-c'], ['job_c'])).toBeUndefined();
      expect(await ref.store.nextDueAt(undefined, ['tenant-c'], [])).toBe(T0 + 1);
      // Another principal's job was not touched: due as before, for a process that can poll it.
      expect(await ref.store.getJob('job_c')).toMatchObject({ nextPollAt: T0 + 1 });
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now, principals: ['tenant-c'] })))).toEqual([
        'job_c',
      ]);
    });

    it('renewLease extends only the lease its owner holds; the job stays due at its end', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      await ref.store.insertJob(makeJob({ id: 'job_2' }));
      await ref.store.leaseDueJobs(lease({ leaseMs: 1_000 }));
      expect(await ref.store.renewLease('job_1', 'owner-b', T0 + 5 * MIN)).toBe(false);
      expect(await ref.store.renewLease('job_1', 'owner-a', T0 + 5 * MIN)).toBe(true);
      expect(await ref.store.getJob('job_1')).toMatchObject({ nextPollAt: T0 + 5 * MIN });
      // Past the first lease's end only job_2 is free again.
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 2_000 })))).toEqual(['job_2']);
      expect(await ref.store.renewLease('job_2', 'owner-a', T0 + 9 * MIN)).toBe(false);
      expect(await ref.store.nextDueAt()).toBe(T0 + 2_000 + MIN); // job_2's new lease ends before job_1's
      // Poked during the renewed lease: the poke is kept for the release to honour.
      await ref.store.pokeJob('job_1', T0 + 3_000);
      expect(await ref.store.renewLease('job_1', 'owner-a', T0 + 6 * MIN)).toBe(true);
      expect(await ref.store.getJob('job_1')).toMatchObject({ nextPollAt: T0 + 3_000 });
      expect(await ref.store.releaseLease('job_1', 'owner-a', { nextPollAt: T0 + 9 * MIN, errors: 0 })).toBe(true);
      expect(await ref.store.getJob('job_1')).toMatchObject({ nextPollAt: T0 + 3_000 });
    });
  });
}
