/**
 * Store contract, part 8: what the background worker relies on. Leases on job rows (one poller per job
 * across processes and replicas: `peer` opens a second handle on the same database, a second SQLite
 * connection or a second PostgreSQL pool), pokes, single-use webhook capabilities, shared rate-limit
 * windows, and the reports (tool outcomes, uncertain reservations). Times are explicit `now` values.
 */
import { describe, expect, it } from 'vitest';
import type { JobRecord, LeaseQuery, Store } from '../../src/store/store.js';
import { makeJob, reserveOk, T0, type StoreRef } from './contract-fixtures.js';

export interface PeerRef extends StoreRef {
  /** Another handle on the same database (closed by the suite after the test). */
  peer(): Promise<Store>;
}

const MIN = 60_000;
const lease = (over: Partial<LeaseQuery> = {}): LeaseQuery => ({
  owner: 'owner-a',
  now: T0,
  leaseMs: MIN,
  limit: 100,
  ...over,
});
const ids = (jobs: JobRecord[]): string[] => jobs.map((j) => j.id);

async function insertDue(store: Store, prefix: string, n: number, at = T0): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.insertJob(makeJob({ id: `${prefix}${String(i).padStart(3, '0')}`, createdAt: at, updatedAt: at }));
  }
}

export function workerContract(ref: PeerRef): void {
  describe('job leases', () => {
    it('a new job is due at once; a job given a later time, or none, is not leased before it', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_now' }));
      await ref.store.insertJob(makeJob({ id: 'job_later', nextPollAt: T0 + 5_000 }));
      await ref.store.insertJob(makeJob({ id: 'job_never', nextPollAt: null }));
      expect((await ref.store.getJob('job_now'))?.nextPollAt).toBe(T0);
      const first = await ref.store.leaseDueJobs(lease());
      expect(ids(first)).toEqual(['job_now']);
      expect(first[0]).toMatchObject({ nextPollAt: T0 + MIN, pollErrors: 0 });
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 4_999 })))).toEqual([]);
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 5_000 })))).toEqual(['job_later']);
      // Long after, both leases have run out (their owners never came back); the job with no time stays out.
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-c', now: T0 + 365 * 24 * 60 * MIN })))).toEqual([
        'job_now',
        'job_later',
      ]);
    });

    it('leases soonest due first, at most `limit`, and only the given providers', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_3', nextPollAt: T0 + 3 }));
      await ref.store.insertJob(makeJob({ id: 'job_1', nextPollAt: T0 + 1 }));
      await ref.store.insertJob(makeJob({ id: 'job_2', nextPollAt: T0 + 2, provider: 'other' }));
      await ref.store.insertJob(makeJob({ id: 'job_0', nextPollAt: T0, provider: 'third' }));
      const now = T0 + 10;
      expect(await ref.store.leaseDueJobs(lease({ now, providers: [] }))).toEqual([]);
      expect(ids(await ref.store.leaseDueJobs(lease({ now, limit: 2, providers: ['acme', 'other'] })))).toEqual([
        'job_1',
        'job_2',
      ]);
      expect(ids(await ref.store.leaseDueJobs(lease({ now, owner: 'owner-b', providers: ['acme'] })))).toEqual([
        'job_3',
      ]);
      expect(ids(await ref.store.leaseDueJobs(lease({ now, owner: 'owner-b' })))).toEqual(['job_0']);
    });

    it('a final job with a poll time set is leased (its outputs are still to be kept); with none it is not', async () => {
      const done = { status: 'succeeded' as const, finishedAt: T0 };
      await ref.store.insertJob(makeJob({ id: 'job_keep', ...done, nextPollAt: T0 }));
      await ref.store.insertJob(makeJob({ id: 'job_done', ...done, nextPollAt: null }));
      expect(ids(await ref.store.leaseDueJobs(lease()))).toEqual(['job_keep']);
      expect(await ref.store.releaseLease('job_keep', 'owner-a', { nextPollAt: null, errors: 0 })).toBe(true);
      expect(await ref.store.leaseDueJobs(lease({ now: T0 + 10 * MIN }))).toEqual([]);
      expect(await ref.store.nextDueAt()).toBeUndefined();
    });

    it('a held lease is not leased again; an expired one is taken over, and its old owner can no longer release it', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      expect(ids(await ref.store.leaseDueJobs(lease({ leaseMs: 1_000 })))).toEqual(['job_1']);
      expect(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 999 }))).toEqual([]);
      const taken = await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 1_000 }));
      expect(ids(taken)).toEqual(['job_1']);
      expect(await ref.store.releaseLease('job_1', 'owner-a', { nextPollAt: T0 + 5, errors: 7 })).toBe(false);
      expect(await ref.store.getJob('job_1')).toMatchObject({ nextPollAt: T0 + 1_000 + MIN, pollErrors: 0 });
      expect(await ref.store.releaseLease('job_1', 'owner-b', { nextPollAt: T0 + 2 * MIN, errors: 2 })).toBe(true);
      expect(await ref.store.getJob('job_1')).toMatchObject({ nextPollAt: T0 + 2 * MIN, pollErrors: 2 });
      // Released: a second release by the same owner finds no lease.
      expect(await ref.store.releaseLease('job_1', 'owner-b', { nextPollAt: T0, errors: 0 })).toBe(false);
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-c', now: T0 + 2 * MIN })))).toEqual(['job_1']);
    });

    it('releaseLease by a non-owner returns false and writes nothing', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      await ref.store.insertJob(makeJob({ id: 'job_free' }));
      await ref.store.leaseDueJobs(lease({ limit: 1 }));
      const before = await ref.store.getJob('job_1');
      expect(await ref.store.releaseLease('job_1', 'owner-x', { nextPollAt: null, errors: 3 })).toBe(false);
      expect(await ref.store.releaseLease('job_free', 'owner-a', { nextPollAt: null, errors: 3 })).toBe(false);
      expect(await ref.store.releaseLease('job_none', 'owner-a', { nextPollAt: null, errors: 3 })).toBe(false);
      expect(await ref.store.getJob('job_1')).toEqual(before);
      expect(await ref.store.getJob('job_free')).toMatchObject({ nextPollAt: T0, pollErrors: 0 });
      // The real owner still holds it.
      expect(await ref.store.leaseDueJobs(lease({ owner: 'owner-x', limit: 5 }))).toMatchObject([{ id: 'job_free' }]);
    });

    it('releaseLease with no next time ends the polling; a poke during the lease is kept', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      await ref.store.insertJob(makeJob({ id: 'job_2' }));
      await ref.store.leaseDueJobs(lease());
      expect(await ref.store.pokeJob('job_2', T0 + 10)).toBe(true); // a webhook hint while it is polled
      expect(await ref.store.releaseLease('job_1', 'owner-a', { nextPollAt: null, errors: 0 })).toBe(true);
      expect(await ref.store.releaseLease('job_2', 'owner-a', { nextPollAt: T0 + 5 * MIN, errors: 0 })).toBe(true);
      expect((await ref.store.getJob('job_1'))?.nextPollAt).toBeNull();
      expect((await ref.store.getJob('job_2'))?.nextPollAt).toBe(T0 + 10);
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 10 })))).toEqual(['job_2']);
    });

    it("a next poll time the ledger sets during the lease is kept when earlier; a later one is the owner's", async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      await ref.store.insertJob(makeJob({ id: 'job_2' }));
      await ref.store.leaseDueJobs(lease());
      // job_1 succeeded during the poll and has outputs to keep: due now.
      await ref.store.updateJob('job_1', { status: 'succeeded', nextPollAt: T0 + 1 }, T0 + 1);
      expect(await ref.store.releaseLease('job_1', 'owner-a', { nextPollAt: T0 + 5 * MIN, errors: 0 })).toBe(true);
      expect((await ref.store.getJob('job_1'))?.nextPollAt).toBe(T0 + 1);
      expect(await ref.store.releaseLease('job_2', 'owner-a', { nextPollAt: T0 + 2 * MIN, errors: 1 })).toBe(true);
      expect(await ref.store.getJob('job_2')).toMatchObject({ nextPollAt: T0 + 2 * MIN, pollErrors: 1 });
      expect(ids(await ref.store.leaseDueJobs(lease({ owner: 'owner-b', now: T0 + 1 })))).toEqual(['job_1']);
    });

    it('nextDueAt: the earliest leasable time, a leased job not before its lease ends; per provider', async () => {
      expect(await ref.store.nextDueAt()).toBeUndefined();
      await ref.store.insertJob(makeJob({ id: 'job_a', nextPollAt: T0 + 50 }));
      await ref.store.insertJob(makeJob({ id: 'job_b', nextPollAt: T0 + 20, provider: 'other' }));
      await ref.store.insertJob(makeJob({ id: 'job_c', nextPollAt: null }));
      expect(await ref.store.nextDueAt()).toBe(T0 + 20);
      expect(await ref.store.nextDueAt(['acme'])).toBe(T0 + 50);
      expect(await ref.store.nextDueAt([])).toBeUndefined();
      expect(await ref.store.nextDueAt(['nobody'])).toBeUndefined();
      await ref.store.leaseDueJobs(lease({ now: T0 + 20, leaseMs: 1_000 }));
      expect(await ref.store.nextDueAt()).toBe(T0 + 50);
      await ref.store.pokeJob('job_b', T0 + 30); // poked under lease: still not before the lease ends
      expect(await ref.store.nextDueAt(['other'])).toBe(T0 + 1_020);
    });

    it('updateJob sets the next poll time', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      expect(await ref.store.updateJob('job_1', { status: 'succeeded', nextPollAt: null }, T0 + 1)).toMatchObject({
        status: 'succeeded',
        nextPollAt: null,
      });
      expect(await ref.store.leaseDueJobs(lease({ now: T0 + 1 }))).toEqual([]);
      await ref.store.updateJob('job_1', { nextPollAt: T0 + 2 }, T0 + 2);
      expect(ids(await ref.store.leaseDueJobs(lease({ now: T0 + 2 })))).toEqual(['job_1']);
    });

    it('owners leasing at once through two handles never get the same job (50 jobs, limit 10, repeated)', async () => {
      const other = await ref.peer();
      for (let round = 0; round < 5; round++) {
        const at = T0 + round * 10 * MIN;
        await insertDue(ref.store, `job_r${round}_`, 50, at);
        const seen = new Map<string, string>();
        for (let take = 0; seen.size < 50 && take < 10; take++) {
          // Eight owners, four on each handle, all asking at once.
          const owners = Array.from({ length: 8 }, (_, i) => `owner-${round}-${take}-${i}`);
          const leased = await Promise.all(
            owners.map((owner, i) =>
              (i % 2 ? other : ref.store).leaseDueJobs(lease({ owner, now: at + take, limit: 10 })),
            ),
          );
          leased.forEach((jobs, i) => {
            expect(jobs.length).toBeLessThanOrEqual(10);
            for (const j of jobs) {
              expect(seen.get(j.id), `${j.id} leased twice`).toBeUndefined();
              seen.set(j.id, owners[i]);
            }
          });
        }
        expect(seen.size).toBe(50);
        for (const [id, owner] of seen) {
          expect(await ref.store.releaseLease(id, owner, { nextPollAt: null, errors: 0 })).toBe(true);
        }
      }
    });
  });

  describe('pokes and webhook capabilities', () => {
    it('pokeJob makes an open job due now, and refuses final and unknown jobs', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_open', nextPollAt: T0 + 60 * MIN }));
      await ref.store.insertJob(makeJob({ id: 'job_done', status: 'failed', finishedAt: T0, nextPollAt: null }));
      expect(await ref.store.pokeJob('job_open', T0 + 5)).toBe(true);
      expect(await ref.store.pokeJob('job_done', T0 + 5)).toBe(false);
      expect(await ref.store.pokeJob('job_none', T0 + 5)).toBe(false);
      expect((await ref.store.getJob('job_done'))?.nextPollAt).toBeNull();
      expect(ids(await ref.store.leaseDueJobs(lease({ now: T0 + 5 })))).toEqual(['job_open']);
    });

    it('takeWebhook matches an open job once; a replay, an unknown hash or a final job finds nothing', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1', webhookHash: 'a'.repeat(64) }));
      await ref.store.insertJob(makeJob({ id: 'job_2', webhookHash: 'b'.repeat(64) }));
      await ref.store.insertJob(makeJob({ id: 'job_3', webhookHash: 'c'.repeat(64), status: 'succeeded' }));
      expect((await ref.store.getJob('job_1'))?.webhookHash).toBe('a'.repeat(64));
      await ref.store.updateJob('job_1', { nextPollAt: T0 + 600_000 }, T0);
      const taken = await ref.store.takeWebhook('a'.repeat(64), T0 + 7);
      // The answer names the hash it matched; the row no longer holds it, and the job is due now.
      expect(taken).toMatchObject({ id: 'job_1', webhookHash: 'a'.repeat(64), nextPollAt: T0 + 7 });
      expect(await ref.store.takeWebhook('a'.repeat(64), T0 + 8)).toBeUndefined();
      expect(await ref.store.takeWebhook('d'.repeat(64), T0 + 8)).toBeUndefined();
      expect(await ref.store.takeWebhook('c'.repeat(64), T0 + 8)).toBeUndefined();
      expect(await ref.store.getJob('job_1')).toMatchObject({ webhookHash: null, nextPollAt: T0 + 7 });
      expect(ids(await ref.store.leaseDueJobs(lease({ now: T0 + 7 })))).toContain('job_1');
      expect((await ref.store.getJob('job_2'))?.webhookHash).toBe('b'.repeat(64));
    });

    it('a capability replayed through two handles at once is taken once', async () => {
      const other = await ref.peer();
      await ref.store.insertJob(makeJob({ id: 'job_1', webhookHash: 'e'.repeat(64) }));
      const got = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : ref.store).takeWebhook('e'.repeat(64), T0)),
      );
      expect(got.filter((j) => j !== undefined)).toHaveLength(1);
    });

    it('two open jobs cannot hold the same capability', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1', webhookHash: 'f'.repeat(64) }));
      await expect(ref.store.insertJob(makeJob({ id: 'job_2', webhookHash: 'f'.repeat(64) }))).rejects.toThrow();
    });
  });

  describe('shared rate-limit windows', () => {
    const slot = (now: number, limit = 3, bucket = 'acme:0123456789abcdef') =>
      ({ bucket, limit, windowMs: MIN, now }) as const;

    it('allows `limit` starts in a window; the next answers the wait and records nothing; slots free as time passes', async () => {
      expect(await ref.store.takeRateSlot(slot(T0))).toBe(0);
      expect(await ref.store.takeRateSlot(slot(T0 + 10))).toBe(0);
      expect(await ref.store.takeRateSlot(slot(T0 + 20))).toBe(0);
      expect(await ref.store.takeRateSlot(slot(T0 + 30))).toBe(MIN - 30);
      // Nothing was recorded by the refusal: the same wait again, and the oldest leaving frees one start.
      expect(await ref.store.takeRateSlot(slot(T0 + 40))).toBe(MIN - 40);
      expect(await ref.store.takeRateSlot(slot(T0 + MIN - 1))).toBe(1);
      expect(await ref.store.takeRateSlot(slot(T0 + MIN))).toBe(0);
      expect(await ref.store.takeRateSlot(slot(T0 + MIN))).toBe(10);
      // Another bucket (another key) has its own window.
      expect(await ref.store.takeRateSlot(slot(T0 + MIN, 3, 'acme:fedcba9876543210'))).toBe(0);
      // Long after, the whole window is free again.
      for (let i = 0; i < 3; i++) expect(await ref.store.takeRateSlot(slot(T0 + 10 * MIN + i))).toBe(0);
      expect(await ref.store.takeRateSlot(slot(T0 + 10 * MIN + 3))).toBe(MIN - 3);
    });

    it('a smaller limit (background) waits until the window has room under it', async () => {
      for (let i = 0; i < 5; i++) expect(await ref.store.takeRateSlot(slot(T0 + i * 100, 5))).toBe(0);
      // Limit 3 with 5 counted: the third oldest start (at T0 + 200) must leave first.
      expect(await ref.store.takeRateSlot(slot(T0 + 1_000, 3))).toBe(MIN + 200 - 1_000);
      expect(await ref.store.takeRateSlot(slot(T0 + MIN + 200, 3))).toBe(0);
    });

    it('40 concurrent takes through two handles with a limit of 15: exactly 15 get a slot', async () => {
      const other = await ref.peer();
      const waits = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? other : ref.store).takeRateSlot(slot(T0 + 1, 15))),
      );
      expect(waits.filter((w) => w === 0)).toHaveLength(15);
      for (const w of waits.filter((x) => x !== 0)) expect(w).toBe(MIN);
      expect(await other.takeRateSlot(slot(T0 + 2, 15))).toBe(MIN - 1);
    });
  });

  describe('worker reports', () => {
    it('toolOutcomes counts the jobs of each tool since a time, and the failed ones, per principal', async () => {
      const job = (id: string, tool: string, status: JobRecord['status'], principal: string, at = T0) =>
        ref.store.insertJob(makeJob({ id, tool, status, principal, createdAt: at, updatedAt: at }));
      await job('j1', 'acme_image', 'succeeded', 'alice');
      await job('j2', 'acme_image', 'failed', 'alice');
      await job('j3', 'acme_image', 'failed', 'bob');
      await job('j4', 'acme_video', 'pending', 'alice');
      await job('j5', 'acme_video', 'cancelled', 'alice');
      await job('j6', 'acme_video', 'failed', 'alice', T0 - 1);
      expect(await ref.store.toolOutcomes({ since: T0 })).toEqual([
        { tool: 'acme_image', total: 3, failed: 2 },
        { tool: 'acme_video', total: 2, failed: 0 },
      ]);
      expect(await ref.store.toolOutcomes({ since: T0, principal: 'alice' })).toEqual([
        { tool: 'acme_image', total: 2, failed: 1 },
        { tool: 'acme_video', total: 2, failed: 0 },
      ]);
      expect(await ref.store.toolOutcomes({ since: T0 - 1, principal: 'alice' })).toContainEqual({
        tool: 'acme_video',
        total: 3,
        failed: 1,
      });
      expect(await ref.store.toolOutcomes({ since: T0, principal: 'carol' })).toEqual([]);
    });

    it("openJobCounts counts every principal's jobs not final yet, by status", async () => {
      expect(await ref.store.openJobCounts()).toEqual({});
      const job = (id: string, status: JobRecord['status'], principal: string) =>
        ref.store.insertJob(makeJob({ id, status, principal }));
      await job('o1', 'pending', 'alice');
      await job('o2', 'running', 'alice');
      await job('o3', 'running', 'bob');
      await job('o4', 'succeeded', 'bob');
      await job('o5', 'failed', 'alice');
      await job('o6', 'cancelled', 'alice');
      expect(await ref.store.openJobCounts()).toEqual({ pending: 1, running: 2 });
    });

    it('refundedSince: the principal own refunds at or after a time, and their credits', async () => {
      const a1 = await reserveOk(ref.store, { principal: 'alice', now: T0, credits: 2 });
      const a2 = await reserveOk(ref.store, { principal: 'alice', now: T0, credits: 0.1 });
      const a3 = await reserveOk(ref.store, { principal: 'alice', now: T0, credits: 5 });
      const b1 = await reserveOk(ref.store, { principal: 'bob', now: T0, credits: 9 });
      for (const r of [a1, a2, a3, b1]) await ref.store.commit(r.id, `job_${r.id}`, T0 + 1);
      await ref.store.refund(a1.id, T0 + 5);
      await ref.store.refund(a2.id, T0 + 20);
      await ref.store.refund(b1.id, T0 + 20);
      expect(await ref.store.refundedSince({ principal: 'alice', since: T0 + 10 })).toEqual({ count: 1, credits: 0.1 });
      expect(await ref.store.refundedSince({ principal: 'alice', since: T0 })).toEqual({ count: 2, credits: 2.1 });
      expect(await ref.store.refundedSince({ principal: 'carol', since: T0 })).toEqual({ count: 0, credits: 0 });
    });

    it('uncertainReservations: uncertain ones and stale reserved ones, oldest first, per principal', async () => {
      const late = await reserveOk(ref.store, { principal: 'alice', now: T0 + 20 });
      const early = await reserveOk(ref.store, { principal: 'alice', now: T0 + 10 });
      const bobs = await reserveOk(ref.store, { principal: 'bob', now: T0 });
      const settled = await reserveOk(ref.store, { principal: 'alice', now: T0 });
      const stale = await reserveOk(ref.store, { principal: 'alice', now: T0 + 5 }); // stays reserved
      await reserveOk(ref.store, { principal: 'alice', now: T0 + 50 }); // reserved, not stale yet
      for (const r of [late, early, bobs, settled]) await ref.store.markUncertain(r.id, T0 + 30);
      await ref.store.commit(settled.id, 'job_x', T0 + 40);
      const olderThan = T0 + 45;
      expect((await ref.store.uncertainReservations({ olderThan })).map((r) => r.id)).toEqual([
        bobs.id,
        stale.id,
        early.id,
        late.id,
      ]);
      const alices = await ref.store.uncertainReservations({ principal: 'alice', olderThan });
      expect(alices.map((r) => r.id)).toEqual([stale.id, early.id, late.id]);
      expect(alices[1]).toMatchObject({ state: 'uncertain', createdAt: T0 + 10, principal: 'alice' });
      expect(await ref.store.uncertainReservations({ principal: 'alice', olderThan, limit: 1 })).toHaveLength(1);
      expect(await ref.store.uncertainReservations({ principal: 'carol', olderThan })).toEqual([]);
    });
  });
}
