/**
 * Store contract, part 6: what jobs_track relies on. A provider job id is one job (UNIQUE per provider,
 * found by its provider id); an idempotency key is settled through its reservation; maintenance never
 * purges a key whose outcome is still unknown.
 */
import { describe, expect, it } from 'vitest';
import { makeJob, makeReserve, type StoreRef } from './contract-fixtures.js';

const HOUR = 3_600_000;

export function trackContract(ref: StoreRef): void {
  describe('jobs by provider job id', () => {
    it('finds a job by (provider, provider job id), and only for that provider', async () => {
      const job = makeJob({ id: 'job_a', provider: 'acme', providerJobId: 'pj-1' });
      await ref.store.insertJob(job);
      await ref.store.insertJob(makeJob({ id: 'job_b', provider: 'other', providerJobId: 'pj-1' }));
      expect(await ref.store.jobByProviderId('acme', 'pj-1')).toEqual(job);
      expect((await ref.store.jobByProviderId('other', 'pj-1'))?.id).toBe('job_b');
      expect(await ref.store.jobByProviderId('acme', 'pj-2')).toBeUndefined();
      expect(await ref.store.jobByProviderId('nobody', 'pj-1')).toBeUndefined();
    });

    it('refuses a second job with the same provider job id (any principal) and keeps the first', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_a', providerJobId: 'pj-1', principal: 'alice' }));
      await expect(
        ref.store.insertJob(makeJob({ id: 'job_b', providerJobId: 'pj-1', principal: 'bob' })),
      ).rejects.toThrow();
      await expect(
        ref.store.insertJob(makeJob({ id: 'job_c', providerJobId: 'pj-1', principal: 'alice' })),
      ).rejects.toThrow();
      expect(await ref.store.getJob('job_b')).toBeUndefined();
      expect(await ref.store.getJob('job_c')).toBeUndefined();
      expect((await ref.store.jobByProviderId('acme', 'pj-1'))?.principal).toBe('alice');
      expect((await ref.store.listJobs({ limit: 10 })).jobs.map((j) => j.id)).toEqual(['job_a']);
    });

    it('of many concurrent inserts of one provider job id, exactly one is recorded', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          ref.store.insertJob(makeJob({ id: `job_${i}`, providerJobId: 'pj-race', principal: `p${i}` })),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await ref.store.listJobs({ limit: 20 })).jobs).toHaveLength(1);
    });
  });

  describe('idempotency keys settled through their reservation', () => {
    it('attaches the job to the key whose unknown call reserved it; no other key changes', async () => {
      const now = Date.now();
      await ref.store.claimIdempotency('p/k1', 'acme_image', 'h', now);
      await ref.store.markIdempotencyUnknown('p/k1', 'res-1');
      await ref.store.claimIdempotency('p/k2', 'acme_image', 'h', now);
      await ref.store.markIdempotencyUnknown('p/k2', 'res-2');
      expect(await ref.store.settleIdempotencyByReservation('res-1', 'res-1')).toBe(1);
      expect(await ref.store.claimIdempotency('p/k1', 'acme_image', 'h', now + 1)).toMatchObject({
        state: 'existing',
        record: { jobId: 'res-1', outcome: 'job', reservationId: 'res-1' },
      });
      expect(await ref.store.claimIdempotency('p/k2', 'acme_image', 'h', now + 1)).toMatchObject({
        state: 'existing',
        record: { jobId: null, outcome: 'unknown', reservationId: 'res-2' },
      });
      // Settled once: a second settle changes nothing; a reservation no key names settles none.
      expect(await ref.store.settleIdempotencyByReservation('res-1', 'job_other')).toBe(0);
      expect(await ref.store.settleIdempotencyByReservation('res-none', 'job_x')).toBe(0);
    });
  });

  describe('maintenance keeps keys whose outcome is not settled', () => {
    it('never purges an unknown key, or one whose reservation is reserved or uncertain, however old', async () => {
      const now = Date.now();
      const old = now - 25 * HOUR; // past the default 24 h retention
      const keysBefore = now - 24 * HOUR;
      const reserved = makeReserve({ now: old });
      const uncertain = makeReserve({ now: old });
      const committed = makeReserve({ now: old });
      for (const r of [reserved, uncertain, committed]) expect((await ref.store.reserve(r)).ok).toBe(true);
      await ref.store.markUncertain(uncertain.id, old + 1);
      await ref.store.commit(committed.id, committed.id, old + 1);
      const claim = async (key: string, at = old): Promise<void> => {
        expect(await ref.store.claimIdempotency(key, 'acme_image', 'h', at)).toEqual({ state: 'new' });
      };
      await claim('unknown-no-res');
      await ref.store.markIdempotencyUnknown('unknown-no-res', 'res-gone');
      await claim('unknown-uncertain');
      await ref.store.markIdempotencyUnknown('unknown-uncertain', uncertain.id);
      await claim('unknown-reserved');
      await ref.store.markIdempotencyUnknown('unknown-reserved', reserved.id);
      await claim('pending-died'); // its process died mid-call: nothing says what happened
      await claim('job-old');
      await ref.store.settleIdempotency('job-old', committed.id);
      await claim('job-new', now);
      await ref.store.settleIdempotency('job-new', 'job_new');

      expect(await ref.store.purge({ tokensBefore: now, keysBefore })).toEqual({ tokens: 0, keys: 1, approvals: 0 });
      const state = async (key: string): Promise<string> =>
        (await ref.store.claimIdempotency(key, 'acme_image', 'h', now)).state;
      for (const kept of ['unknown-no-res', 'unknown-uncertain', 'unknown-reserved', 'pending-died', 'job-new'])
        expect(await state(kept), kept).toBe('existing');
      expect(await state('job-old')).toBe('new'); // settled with its job and old: purged (and now claimed anew)

      // Once jobs_track settles the uncertain one, its key answers with the job and ages out like any other.
      await ref.store.commit(uncertain.id, uncertain.id, now);
      expect(await ref.store.settleIdempotencyByReservation(uncertain.id, uncertain.id)).toBe(1);
      expect(await ref.store.purge({ tokensBefore: now, keysBefore })).toEqual({ tokens: 0, keys: 1, approvals: 0 });
      expect(await state('unknown-uncertain')).toBe('new');
      expect(await state('unknown-reserved')).toBe('existing');
      expect(await state('unknown-no-res')).toBe('existing');
      expect(await state('pending-died')).toBe('existing');
    });
  });
}
