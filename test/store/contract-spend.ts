/**
 * Store contract, part 2: spend reservations (caps, transitions, totals, ledger order).
 */
import { describe, expect, it } from 'vitest';
import { DAY, findReservation, makeReserve, reserveOk, T0, type StoreRef } from './contract-fixtures.js';

export function spendContract(ref: StoreRef): void {
  describe('spend: caps', () => {
    it('reserves under and exactly at a session cap, refuses over it', async () => {
      const req = makeReserve({ credits: 4, sessionCap: 10, now: T0 + 7 });
      const first = await ref.store.reserve(req);
      expect(first).toEqual({
        ok: true,
        reservation: {
          id: req.id,
          provider: 'acme',
          tool: 'acme_image',
          callerId: 'caller-a',
          principal: 'principal-a',
          day: DAY,
          credits: 4,
          argsHash: 'h-args',
          state: 'reserved',
          jobId: null,
          createdAt: T0 + 7,
          updatedAt: T0 + 7,
        },
      });
      expect(await findReservation(ref.store, req.id)).toEqual(first.ok ? first.reservation : undefined);
      await reserveOk(ref.store, { credits: 6, sessionCap: 10 }); // exactly at the cap
      const over = await ref.store.reserve(makeReserve({ credits: 0.5, sessionCap: 10 }));
      expect(over).toEqual({ ok: false, scope: 'session', cap: 10, used: 10 });
      expect(await ref.store.recentSpend(100)).toHaveLength(2); // a refusal records nothing
    });

    it('getReservation: one by id, undefined for an unknown id', async () => {
      const r = await reserveOk(ref.store, { credits: 2 });
      await ref.store.markUncertain(r.id, T0 + 5);
      expect(await ref.store.getReservation(r.id)).toMatchObject({ id: r.id, state: 'uncertain', credits: 2 });
      expect(await ref.store.getReservation('res-missing')).toBeUndefined();
    });

    it('reserves under and at a day cap, refuses over it', async () => {
      await reserveOk(ref.store, { credits: 3, dayCap: 5 });
      await reserveOk(ref.store, { credits: 2, dayCap: 5 });
      expect(await ref.store.reserve(makeReserve({ credits: 1, dayCap: 5 }))).toEqual({
        ok: false,
        scope: 'day',
        cap: 5,
        used: 5,
      });
      // another day has its own day cap
      await reserveOk(ref.store, { credits: 5, dayCap: 5, day: '2025-03-02' });
    });

    it('refuses a single reservation larger than the cap, and checks the session cap before the day cap', async () => {
      expect(await ref.store.reserve(makeReserve({ credits: 11, sessionCap: 10 }))).toEqual({
        ok: false,
        scope: 'session',
        cap: 10,
        used: 0,
      });
      await reserveOk(ref.store, { credits: 2, sessionCap: 3, dayCap: 3 });
      expect(await ref.store.reserve(makeReserve({ credits: 2, sessionCap: 3, dayCap: 3 }))).toEqual({
        ok: false,
        scope: 'session',
        cap: 3,
        used: 2,
      });
      expect(await ref.store.reserve(makeReserve({ credits: 2, sessionCap: 100, dayCap: 3 }))).toMatchObject({
        ok: false,
        scope: 'day',
      });
    });

    it('shares the day cap between callers but not the session cap', async () => {
      const caps = { sessionCap: 4, dayCap: 6 };
      await reserveOk(ref.store, { callerId: 'caller-a', credits: 4, ...caps });
      expect(await ref.store.reserve(makeReserve({ callerId: 'caller-a', credits: 1, ...caps }))).toEqual({
        ok: false,
        scope: 'session',
        cap: 4,
        used: 4,
      });
      await reserveOk(ref.store, { callerId: 'caller-b', credits: 2, ...caps }); // b's session is empty
      expect(await ref.store.reserve(makeReserve({ callerId: 'caller-b', credits: 1, ...caps }))).toEqual({
        ok: false,
        scope: 'day',
        cap: 6,
        used: 6,
      });
    });

    it("counts a caller's session across days", async () => {
      await reserveOk(ref.store, { credits: 3, sessionCap: 5, day: '2025-03-01' });
      expect(await ref.store.reserve(makeReserve({ credits: 3, sessionCap: 5, day: '2025-03-02' }))).toEqual({
        ok: false,
        scope: 'session',
        cap: 5,
        used: 3,
      });
    });

    it('keeps caps per provider', async () => {
      const caps = { sessionCap: 2, dayCap: 2 };
      await reserveOk(ref.store, { provider: 'acme', credits: 2, ...caps });
      await reserveOk(ref.store, { provider: 'bolt', credits: 2, ...caps });
      expect(await ref.store.reserve(makeReserve({ provider: 'acme', ...caps }))).toMatchObject({ ok: false });
      expect(await ref.store.reserve(makeReserve({ provider: 'bolt', ...caps }))).toMatchObject({ ok: false });
    });

    it('never refuses without caps', async () => {
      for (let i = 0; i < 5; i++) await reserveOk(ref.store, { credits: 1000 });
    });

    it('handles fractional credits exactly enough: 10 × 0.1 fits a cap of 1', async () => {
      for (let i = 0; i < 10; i++) await reserveOk(ref.store, { credits: 0.1, sessionCap: 1, dayCap: 1 });
      const over = await ref.store.reserve(makeReserve({ credits: 0.1, sessionCap: 1, dayCap: 1 }));
      expect(over.ok).toBe(false);
      if (!over.ok) {
        expect(over.scope).toBe('session');
        expect(over.used).toBeCloseTo(1, 9);
      }
      // 0.1 + 0.2 + 0.3 is 0.6000000000000001 in binary floating point, yet fits a cap of 0.6
      for (const credits of [0.1, 0.2, 0.3]) await reserveOk(ref.store, { provider: 'cove', credits, dayCap: 0.6 });
      for (let i = 0; i < 3; i++) await reserveOk(ref.store, { provider: 'bolt', credits: 1.21, dayCap: 3.63 });
      expect((await ref.store.reserve(makeReserve({ provider: 'bolt', credits: 0.01, dayCap: 3.63 }))).ok).toBe(false);
    });

    it('counts reserved, committed and uncertain against caps, but not released', async () => {
      const caps = { sessionCap: 3 };
      const a = await reserveOk(ref.store, caps);
      const b = await reserveOk(ref.store, caps);
      const c = await reserveOk(ref.store, caps);
      await ref.store.commit(a.id, 'job_a', T0 + 1);
      await ref.store.markUncertain(b.id, T0 + 1);
      expect((await ref.store.reserve(makeReserve(caps))).ok).toBe(false);
      await ref.store.release(c.id, T0 + 2);
      await reserveOk(ref.store, caps);
      expect(await ref.store.reserve(makeReserve(caps))).toEqual({ ok: false, scope: 'session', cap: 3, used: 3 });
    });

    it('never overspends under 50 concurrent reservations', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () => ref.store.reserve(makeReserve({ credits: 1, sessionCap: 10 }))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, scope: 'session', cap: 10, used: 10 });
      const totals = await ref.store.spendTotals({});
      expect(totals).toEqual([
        { provider: 'acme', committed: 0, reserved: 10, uncertain: 0, refunded: 0, released: 0 },
      ]);
    });
  });

  describe('spend: transitions', () => {
    it('commits reserved and uncertain reservations with the job id', async () => {
      const a = await reserveOk(ref.store);
      const b = await reserveOk(ref.store);
      await ref.store.commit(a.id, 'job_a', T0 + 10);
      expect(await findReservation(ref.store, a.id)).toEqual({
        ...a,
        state: 'committed',
        jobId: 'job_a',
        updatedAt: T0 + 10,
      });
      await ref.store.markUncertain(b.id, T0 + 20);
      expect(await findReservation(ref.store, b.id)).toEqual({ ...b, state: 'uncertain', updatedAt: T0 + 20 });
      await ref.store.commit(b.id, 'job_b', T0 + 30);
      expect(await findReservation(ref.store, b.id)).toEqual({
        ...b,
        state: 'committed',
        jobId: 'job_b',
        updatedAt: T0 + 30,
      });
    });

    it('commits with the amount the provider actually charged, when given', async () => {
      const a = await reserveOk(ref.store);
      await ref.store.commit(a.id, 'job_a', T0 + 10, 0.25);
      expect(await findReservation(ref.store, a.id)).toEqual({
        ...a,
        credits: 0.25,
        state: 'committed',
        jobId: 'job_a',
        updatedAt: T0 + 10,
      });
    });

    it('releases reserved and uncertain reservations', async () => {
      const a = await reserveOk(ref.store);
      const b = await reserveOk(ref.store);
      await ref.store.release(a.id, T0 + 10);
      expect(await findReservation(ref.store, a.id)).toEqual({ ...a, state: 'released', updatedAt: T0 + 10 });
      await ref.store.markUncertain(b.id, T0 + 20);
      await ref.store.release(b.id, T0 + 30);
      expect(await findReservation(ref.store, b.id)).toEqual({ ...b, state: 'released', updatedAt: T0 + 30 });
    });

    it('refunds committed and uncertain reservations; refunded credits leave the caps', async () => {
      const caps = { sessionCap: 2 };
      const a = await reserveOk(ref.store, caps);
      const b = await reserveOk(ref.store, caps);
      await ref.store.commit(a.id, 'job_a', T0 + 10);
      await ref.store.markUncertain(b.id, T0 + 10);
      expect((await ref.store.reserve(makeReserve(caps))).ok).toBe(false);
      await ref.store.refund(a.id, T0 + 20);
      expect(await findReservation(ref.store, a.id)).toEqual({
        ...a,
        state: 'refunded',
        jobId: 'job_a',
        updatedAt: T0 + 20,
      });
      await ref.store.refund(b.id, T0 + 30);
      expect(await findReservation(ref.store, b.id)).toEqual({ ...b, state: 'refunded', updatedAt: T0 + 30 });
      await reserveOk(ref.store, caps);
      expect(await ref.store.spendTotals({})).toEqual([
        { provider: 'acme', committed: 0, reserved: 1, uncertain: 0, refunded: 2, released: 0 },
      ]);
    });

    it('a refund of a job refunds the reservation committed to it under another id, and only that one', async () => {
      const mine = await reserveOk(ref.store);
      const other = await reserveOk(ref.store);
      await ref.store.commit(mine.id, 'job_adopted', T0 + 10);
      await ref.store.commit(other.id, other.id, T0 + 10);
      await ref.store.refund('job_adopted', T0 + 20);
      expect((await findReservation(ref.store, mine.id))?.state).toBe('refunded');
      expect((await findReservation(ref.store, other.id))?.state).toBe('committed');
      expect((await ref.store.reservationOfJob('job_adopted'))?.id).toBe(mine.id);
      expect(await ref.store.reservationOfJob('job_nobody_paid_for')).toBeUndefined();
    });

    it('ignores forbidden transitions', async () => {
      const committed = await reserveOk(ref.store);
      await ref.store.commit(committed.id, 'job_1', T0 + 1);
      const released = await reserveOk(ref.store);
      await ref.store.release(released.id, T0 + 1);
      const uncertain = await reserveOk(ref.store);
      await ref.store.markUncertain(uncertain.id, T0 + 1);
      const refunded = await reserveOk(ref.store);
      await ref.store.commit(refunded.id, 'job_4', T0 + 1);
      await ref.store.refund(refunded.id, T0 + 1);
      const reserved = await reserveOk(ref.store);
      const before = await ref.store.recentSpend(100);

      await ref.store.commit(committed.id, 'job_other', T0 + 99); // committed -> committed
      await ref.store.release(committed.id, T0 + 99); // committed -> released
      await ref.store.markUncertain(committed.id, T0 + 99); // committed -> uncertain
      await ref.store.commit(released.id, 'job_2', T0 + 99); // released -> committed
      await ref.store.release(released.id, T0 + 99); // released -> released
      await ref.store.markUncertain(released.id, T0 + 99); // released -> uncertain
      await ref.store.markUncertain(uncertain.id, T0 + 99); // uncertain -> uncertain
      await ref.store.commit('res-missing', 'job_3', T0 + 99);
      await ref.store.release('res-missing', T0 + 99);
      await ref.store.markUncertain('res-missing', T0 + 99);
      await ref.store.refund(reserved.id, T0 + 99); // reserved -> refunded (never accepted)
      await ref.store.refund(released.id, T0 + 99); // released -> refunded
      await ref.store.refund(refunded.id, T0 + 99); // refunded -> refunded
      await ref.store.commit(refunded.id, 'job_5', T0 + 99); // refunded -> committed
      await ref.store.release(refunded.id, T0 + 99); // refunded -> released
      await ref.store.markUncertain(refunded.id, T0 + 99); // refunded -> uncertain
      await ref.store.refund('res-missing', T0 + 99);

      expect(await ref.store.recentSpend(100)).toEqual(before);
    });
  });

  describe('spend: reports', () => {
    it('sums per provider, with filters and stale reservations counted as uncertain', async () => {
      const r1 = await reserveOk(ref.store, { credits: 1, now: T0 });
      const r2 = await reserveOk(ref.store, { credits: 2, now: T0 + 1000 });
      const r3 = await reserveOk(ref.store, { credits: 4, now: T0 + 2000 });
      const r4 = await reserveOk(ref.store, { credits: 8, now: T0 + 3000 });
      await reserveOk(ref.store, { credits: 16, now: T0 + 4000 }); // stays reserved, fresh
      await ref.store.commit(r1.id, 'job_1', T0 + 5000);
      await ref.store.markUncertain(r2.id, T0 + 5000);
      await ref.store.release(r3.id, T0 + 5000);
      void r4; // stays reserved; stale when olderThan > T0 + 3000
      await reserveOk(ref.store, { provider: 'bolt', credits: 0.25, callerId: 'caller-b', day: '2025-03-02' });
      await reserveOk(ref.store, { provider: 'bolt', credits: 0.5, callerId: 'caller-b', day: '2025-03-02' });
      const onlyReleased = await reserveOk(ref.store, { provider: 'cove', credits: 9 });
      await ref.store.release(onlyReleased.id, T0 + 5000);

      expect(await ref.store.spendTotals({})).toEqual([
        { provider: 'acme', committed: 1, reserved: 24, uncertain: 2, refunded: 0, released: 4 },
        { provider: 'bolt', committed: 0, reserved: 0.75, uncertain: 0, refunded: 0, released: 0 },
        { provider: 'cove', committed: 0, reserved: 0, uncertain: 0, refunded: 0, released: 9 },
      ]);
      expect(await ref.store.spendTotals({ olderThan: T0 + 3500 })).toEqual([
        { provider: 'acme', committed: 1, reserved: 16, uncertain: 10, refunded: 0, released: 4 },
        { provider: 'bolt', committed: 0, reserved: 0, uncertain: 0.75, refunded: 0, released: 0 },
        { provider: 'cove', committed: 0, reserved: 0, uncertain: 0, refunded: 0, released: 9 },
      ]);
      // olderThan is strict: a reservation created exactly at olderThan is not stale
      expect(await ref.store.spendTotals({ olderThan: T0 + 3000, callerId: 'caller-a' })).toEqual([
        { provider: 'acme', committed: 1, reserved: 24, uncertain: 2, refunded: 0, released: 4 },
        { provider: 'cove', committed: 0, reserved: 0, uncertain: 0, refunded: 0, released: 9 },
      ]);
      expect(await ref.store.spendTotals({ callerId: 'caller-b' })).toEqual([
        { provider: 'bolt', committed: 0, reserved: 0.75, uncertain: 0, refunded: 0, released: 0 },
      ]);
      expect(await ref.store.spendTotals({ day: DAY, callerId: 'caller-a' })).toHaveLength(2);
      expect(await ref.store.spendTotals({ day: '2025-03-02' })).toEqual([
        { provider: 'bolt', committed: 0, reserved: 0.75, uncertain: 0, refunded: 0, released: 0 },
      ]);
      expect(await ref.store.spendTotals({ day: '2025-03-02', callerId: 'caller-a' })).toEqual([]);
      expect(await ref.store.spendTotals({ day: '1999-01-01' })).toEqual([]);
    });

    it('lists recent spend newest first (createdAt desc, then id desc), in every state', async () => {
      // res-a and res-b share a createdAt and are inserted in ascending id order
      await reserveOk(ref.store, { id: 'res-a', now: T0 + 5 });
      await reserveOk(ref.store, { id: 'res-b', now: T0 + 5 });
      await reserveOk(ref.store, { id: 'res-c', now: T0 + 1 });
      await reserveOk(ref.store, { id: 'res-d', now: T0 + 9 });
      await ref.store.release('res-c', T0 + 50);
      await ref.store.commit('res-a', 'job_a', T0 + 60);
      const recent = await ref.store.recentSpend(10);
      expect(recent.map((r) => r.id)).toEqual(['res-d', 'res-b', 'res-a', 'res-c']);
      expect(recent.map((r) => r.state)).toEqual(['reserved', 'reserved', 'committed', 'released']);
      expect((await ref.store.recentSpend(2)).map((r) => r.id)).toEqual(['res-d', 'res-b']);
      expect(await ref.store.recentSpend(0)).toEqual([]);
    });
  });
}
