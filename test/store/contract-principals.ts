/**
 * Store contract, principals: day caps and spend reports count per principal (DESIGN §8).
 */
import { describe, expect, it } from 'vitest';
import { makeReserve, reserveOk, type StoreRef } from './contract-fixtures.js';

export function principalsContract(ref: StoreRef): void {
  describe('principals', () => {
    it('counts the day cap per principal: one principal filling its cap leaves another untouched', async () => {
      await reserveOk(ref.store, { principal: 'principal-a', credits: 5, dayCap: 5 });
      expect(await ref.store.reserve(makeReserve({ principal: 'principal-a', credits: 1, dayCap: 5 }))).toMatchObject({
        ok: false,
        scope: 'day',
        used: 5,
      });
      const b = await reserveOk(ref.store, { principal: 'principal-b', callerId: 'caller-b', credits: 5, dayCap: 5 });
      expect(b.principal).toBe('principal-b');
      expect(await ref.store.spendTotals({ principal: 'principal-b' })).toMatchObject([
        { provider: 'acme', reserved: 5 },
      ]);
      expect((await ref.store.recentSpend(10, 'principal-b')).map((r) => r.id)).toEqual([b.id]);
      expect(await ref.store.recentSpend(10)).toHaveLength(2);
    });
  });
}
