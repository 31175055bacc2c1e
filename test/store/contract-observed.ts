/**
 * Store contract, part 5: observed prices (balance before − after one job of a tool whose price is unknown).
 */
import { describe, expect, it } from 'vitest';
import { RECENT_OBSERVATIONS, type ActivityQuery, type PriceObservation } from '../../src/store/store.js';
import { makeJob, reserveOk, T0, type StoreRef } from './contract-fixtures.js';

function obs(over: Partial<PriceObservation> = {}): PriceObservation {
  return { provider: 'acme', tool: 'acme_video', priceKey: '{"duration":5}', credits: 12, observedAt: T0, ...over };
}

export function observedContract(ref: StoreRef): void {
  describe('observed prices', () => {
    it('is undefined before any observation', async () => {
      expect(await ref.store.observedPrice('acme_video', '{"duration":5}')).toBeUndefined();
      expect(await ref.store.listObservations()).toEqual([]);
    });

    it('summarises latest, max, count and latest time per (tool, price key)', async () => {
      const s = ref.store;
      await s.recordObservation(obs({ credits: 12, observedAt: T0 }));
      await s.recordObservation(obs({ credits: 15.5, observedAt: T0 + 1000 }));
      await s.recordObservation(obs({ credits: 11, observedAt: T0 + 2000 }));
      await s.recordObservation(obs({ priceKey: '{"duration":10}', credits: 30, observedAt: T0 + 3000 }));
      await s.recordObservation(obs({ tool: 'acme_image', priceKey: '{}', credits: 2, observedAt: T0 + 4000 }));
      expect(await s.observedPrice('acme_video', '{"duration":5}')).toEqual({
        latest: 11,
        max: 15.5,
        count: 3,
        latestAt: T0 + 2000,
        recent: [11, 15.5, 12],
      });
      expect(await s.observedPrice('acme_video', '{"duration":10}')).toEqual({
        latest: 30,
        max: 30,
        count: 1,
        latestAt: T0 + 3000,
        recent: [30],
      });
      expect(await s.observedPrice('acme_video', '{"duration":7}')).toBeUndefined();
    });

    it('takes the later insert as latest when two share a time', async () => {
      await ref.store.recordObservation(obs({ credits: 12 }));
      await ref.store.recordObservation(obs({ credits: 13 }));
      expect((await ref.store.observedPrice('acme_video', '{"duration":5}'))?.latest).toBe(13);
    });

    it('lists every observation oldest first', async () => {
      const s = ref.store;
      await s.recordObservation(obs({ credits: 20, observedAt: T0 + 5 }));
      await s.recordObservation(obs({ tool: 'acme_image', priceKey: '{}', credits: 0.5, observedAt: T0 }));
      expect(await s.listObservations()).toEqual([
        obs({ tool: 'acme_image', priceKey: '{}', credits: 0.5, observedAt: T0 }),
        obs({ credits: 20, observedAt: T0 + 5 }),
      ]);
    });

    it(`returns the latest ${RECENT_OBSERVATIONS} figures, newest first, with the count and max of all`, async () => {
      for (let i = 0; i < RECENT_OBSERVATIONS + 5; i++)
        await ref.store.recordObservation(obs({ credits: i + 1, observedAt: T0 + i }));
      const seen = await ref.store.observedPrice('acme_video', '{"duration":5}');
      expect(seen?.count).toBe(RECENT_OBSERVATIONS + 5);
      expect(seen?.max).toBe(RECENT_OBSERVATIONS + 5);
      expect(seen?.recent).toEqual(Array.from({ length: RECENT_OBSERVATIONS }, (_, i) => RECENT_OBSERVATIONS + 5 - i));
    });

    it('refuses a charge that is not positive', async () => {
      await expect(ref.store.recordObservation(obs({ credits: 0 }))).rejects.toThrow();
      expect(await ref.store.listObservations()).toEqual([]);
    });

    describe('other activity of a provider in a window (is a balance sample clean?)', () => {
      const W = { from: T0 + 10_000, to: T0 + 20_000 };
      const q = (over: Partial<ActivityQuery> = {}): ActivityQuery => ({
        provider: 'acme',
        exceptId: 'mine',
        ...W,
        horizonMs: 3_600_000,
        settleMs: 60_000,
        ...over,
      });
      const busy = (over: Partial<ActivityQuery> = {}) => ref.store.otherActivity(q(over));

      it('is quiet with nothing but the sampled call itself (its reservation and job)', async () => {
        expect(await busy()).toBe(false);
        await reserveOk(ref.store, { id: 'mine', now: W.from });
        await ref.store.insertJob(makeJob({ id: 'mine', createdAt: W.from }));
        expect(await busy()).toBe(false);
      });

      it('sees an open reservation of any principal, created before or inside the window', async () => {
        await reserveOk(ref.store, { id: 'bob-1', principal: 'bob', callerId: 'bob-s', now: W.from - 5_000 });
        expect(await busy()).toBe(true);
        expect(await busy({ provider: 'other' })).toBe(false);
        expect(await busy({ exceptId: 'bob-1' })).toBe(false);
      });

      it('sees a reservation created inside the window even once it was released or committed', async () => {
        await reserveOk(ref.store, { id: 'r1', now: W.from + 1_000 });
        await ref.store.release('r1', W.from + 2_000);
        expect(await busy()).toBe(true);
        expect(await busy({ from: W.from + 3_000 })).toBe(false); // created and settled before that window
      });

      it('ignores a reservation settled before the window; counts uncertain ones until the horizon', async () => {
        await reserveOk(ref.store, { id: 'done', now: W.from - 9_000 });
        await ref.store.commit('done', 'done', W.from - 8_000);
        expect(await busy()).toBe(false);
        await reserveOk(ref.store, { id: 'lost', now: W.from - 30 * 60_000 });
        await ref.store.markUncertain('lost', W.from - 30 * 60_000);
        expect(await busy()).toBe(true);
        expect(await busy({ horizonMs: 10 * 60_000 })).toBe(false);
      });

      it('a refunded reservation or failed job stays busy for settleMs after it ended (late refunds)', async () => {
        await reserveOk(ref.store, { id: 'f', now: W.from - 50_000 });
        await ref.store.commit('f', 'f', W.from - 49_000);
        await ref.store.refund('f', W.from - 30_000);
        expect(await busy()).toBe(true);
        expect(await busy({ settleMs: 10_000 })).toBe(false);
        await ref.store.insertJob(
          makeJob({ id: 'fj', status: 'failed', createdAt: W.from - 50_000, finishedAt: W.from - 30_000 }),
        );
        expect(await busy({ settleMs: 10_000 })).toBe(false);
        expect(await busy({ settleMs: 40_000 })).toBe(true);
      });

      it('sees a job still open or finished inside the window, not one that succeeded before it', async () => {
        await ref.store.insertJob(
          makeJob({ id: 'old', status: 'succeeded', createdAt: W.from - 9_000, finishedAt: W.from - 1 }),
        );
        expect(await busy()).toBe(false);
        await ref.store.insertJob(
          makeJob({ id: 'late', status: 'succeeded', createdAt: W.from - 9_000, finishedAt: W.from + 1 }),
        );
        expect(await busy()).toBe(true);
        expect(await busy({ exceptId: 'late' })).toBe(false);
        await ref.store.insertJob(makeJob({ id: 'open', status: 'running', createdAt: W.from - 3_000_000 }));
        expect(await busy({ exceptId: 'late' })).toBe(true);
        // An open job counts however old it is (jobs may run 48 h past our limit).
        expect(await busy({ exceptId: 'late', horizonMs: 60_000 })).toBe(true);
        expect(await busy({ exceptId: 'late', provider: 'other' })).toBe(false);
      });

      it('a job older than the horizon that failed just before the window is busy (its refund may land now)', async () => {
        await ref.store.insertJob(
          makeJob({ id: 'ancient', status: 'failed', createdAt: W.from - 9 * 3_600_000, finishedAt: W.from - 5_000 }),
        );
        expect(await busy()).toBe(true);
        expect(await busy({ settleMs: 1_000 })).toBe(false);
      });

      it('does not look past the end of the window', async () => {
        await reserveOk(ref.store, { id: 'after', now: W.to + 1 });
        expect(await busy()).toBe(false);
        expect(await busy({ to: W.to + 1 })).toBe(true);
      });
    });
  });
}
