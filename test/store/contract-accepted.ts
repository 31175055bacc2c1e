/**
 * Store contract, part 6: giving a consent token back after a cap refused the call it was used for (the
 * lookup of a job by its provider job id, which the paid path also uses, is in contract-track.ts).
 */
import { describe, expect, it } from 'vitest';
import { T0, type StoreRef } from './contract-fixtures.js';

export function acceptedContract(ref: StoreRef): void {
  describe('giving a consent token back', () => {
    const token = {
      tokenHash: 'sha-back',
      tool: 'acme_video',
      argsHash: 'h-args',
      callerId: 'caller-a',
      createdAt: T0,
      expiresAt: T0 + 600_000,
    };

    it('undoes exactly the use it names: the token works once more, then is used', async () => {
      await ref.store.putToken(token);
      expect(await ref.store.consumeToken('sha-back', 'acme_video', 'h-args', 'caller-a', T0 + 5)).toBe('ok');
      await ref.store.returnToken('sha-back', T0 + 4); // not that use: nothing changes
      expect(await ref.store.consumeToken('sha-back', 'acme_video', 'h-args', 'caller-a', T0 + 6)).toBe('used');
      await ref.store.returnToken('sha-back', T0 + 5);
      expect(await ref.store.consumeToken('sha-back', 'acme_video', 'h-args', 'caller-a', T0 + 7)).toBe('ok');
      expect(await ref.store.consumeToken('sha-back', 'acme_video', 'h-args', 'caller-a', T0 + 8)).toBe('used');
    });
  });
}
