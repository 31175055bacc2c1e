/**
 * Store contract: the spend view's read-only queries. Credits per provider and UTC day of one principal
 * (the reservation's day, as the day cap counts it; a stale 'reserved' row counted as uncertain), and the
 * refunds since a time, latest first.
 */
import { describe, expect, it } from 'vitest';
import { reserveOk, T0, type StoreRef } from './contract-fixtures.js';

const zero = { committed: 0, reserved: 0, uncertain: 0, refunded: 0, released: 0 };

export function spendDaysContract(ref: StoreRef): void {
  describe('spend per day and refunds', () => {
    it('spendByDay: per provider and day from a day on, by state, only the principal own', async () => {
      const s = ref.store;
      const old = await reserveOk(s, { principal: 'alice', day: '2025-02-27', credits: 7 });
      await s.commit(old.id, 'job_old', T0 + 1);
      const c1 = await reserveOk(s, { principal: 'alice', day: '2025-03-01', credits: 1.5 });
      const c2 = await reserveOk(s, { principal: 'alice', day: '2025-03-01', credits: 0.1 });
      const rf = await reserveOk(s, { principal: 'alice', day: '2025-03-01', credits: 2 });
      const un = await reserveOk(s, { principal: 'alice', day: '2025-03-01', credits: 3 });
      const rl = await reserveOk(s, { principal: 'alice', day: '2025-03-01', credits: 4 });
      for (const r of [c1, c2, rf]) await s.commit(r.id, `job_${r.id}`, T0 + 1);
      await s.refund(rf.id, T0 + 2);
      await s.markUncertain(un.id, T0 + 2);
      await s.release(rl.id, T0 + 2);
      await reserveOk(s, { principal: 'alice', day: '2025-03-02', credits: 5, now: T0 }); // stale by olderThan
      await reserveOk(s, { principal: 'alice', day: '2025-03-02', credits: 6, now: T0 + 100 }); // in flight
      await reserveOk(s, { principal: 'alice', day: '2025-03-01', provider: 'other', credits: 8, now: T0 + 100 });
      await reserveOk(s, { principal: 'bob', day: '2025-03-01', credits: 9 });

      const days = await s.spendByDay({ principal: 'alice', fromDay: '2025-02-28', olderThan: T0 + 50 });
      expect(days).toEqual([
        {
          ...zero,
          provider: 'acme',
          day: '2025-03-01',
          committed: 1.6,
          uncertain: 3,
          refunded: 2,
          released: 4,
        },
        { ...zero, provider: 'acme', day: '2025-03-02', reserved: 6, uncertain: 5 },
        { ...zero, provider: 'other', day: '2025-03-01', reserved: 8 },
      ]);
      expect(await s.spendByDay({ principal: 'alice', fromDay: '2025-01-01', olderThan: T0 + 50 })).toHaveLength(4);
      expect(await s.spendByDay({ principal: 'carol', fromDay: '2025-01-01', olderThan: T0 })).toEqual([]);
    });

    it('refundsSince: the principal own refunds at or after a time, latest refund first, bounded', async () => {
      const s = ref.store;
      const ids: string[] = [];
      for (const [principal, at] of [
        ['alice', T0 + 5],
        ['alice', T0 + 30],
        ['alice', T0 + 20],
        ['bob', T0 + 40],
      ] as const) {
        const r = await reserveOk(s, { principal, credits: 2 });
        await s.commit(r.id, `job_${r.id}`, T0 + 1);
        await s.refund(r.id, at);
        ids.push(r.id);
      }
      const kept = await reserveOk(s, { principal: 'alice' });
      await s.commit(kept.id, 'job_kept', T0 + 50);
      const refunds = await s.refundsSince({ principal: 'alice', since: T0 + 10 });
      expect(refunds.map((r) => r.id)).toEqual([ids[1], ids[2]]);
      expect(refunds[0]).toMatchObject({ state: 'refunded', updatedAt: T0 + 30, credits: 2, jobId: `job_${ids[1]}` });
      expect((await s.refundsSince({ principal: 'alice', since: T0, limit: 1 })).map((r) => r.id)).toEqual([ids[1]]);
      expect(await s.refundsSince({ principal: 'carol', since: T0 })).toEqual([]);
    });

    it('refundsByProvider: the principal own refunds at or after a time (refund time), counted per provider', async () => {
      const s = ref.store;
      for (const [principal, provider, credits, at] of [
        ['alice', 'phaya', 2, T0 + 20],
        ['alice', 'phaya', 1.5, T0 + 30],
        ['alice', 'mediaio', 0.25, T0 + 25],
        ['alice', 'phaya', 4, T0 + 5],
        ['bob', 'phaya', 8, T0 + 40],
      ] as const) {
        const r = await reserveOk(s, { principal, provider, credits });
        await s.commit(r.id, `job_${r.id}`, T0 + 1);
        await s.refund(r.id, at);
      }
      expect(await s.refundsByProvider({ principal: 'alice', since: T0 + 10 })).toEqual([
        { provider: 'mediaio', count: 1, credits: 0.25 },
        { provider: 'phaya', count: 2, credits: 3.5 },
      ]);
      expect(await s.refundsByProvider({ principal: 'carol', since: T0 })).toEqual([]);
    });
  });
}
