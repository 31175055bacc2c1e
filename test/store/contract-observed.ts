/**
 * Store contract, part 5: observed prices (balance before − after one job of a tool whose price is unknown).
 */
import { describe, expect, it } from 'vitest';
import type { PriceObservation } from '../../src/store/store.js';
import { T0, type StoreRef } from './contract-fixtures.js';

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
      });
      expect(await s.observedPrice('acme_video', '{"duration":10}')).toEqual({
        latest: 30,
        max: 30,
        count: 1,
        latestAt: T0 + 3000,
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

    it('refuses a charge that is not positive', async () => {
      await expect(ref.store.recordObservation(obs({ credits: 0 }))).rejects.toThrow();
      expect(await ref.store.listObservations()).toEqual([]);
    });
  });
}
