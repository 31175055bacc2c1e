/**
 * Store contract, part 6: what the paid path needs after a provider accepted (issue 17): finding a job by
 * its provider job id (a row jobs_track adopted meanwhile) and giving a consent token back after a cap
 * refused the call it was used for.
 */
import { describe, expect, it } from 'vitest';
import { makeJob, T0, type StoreRef } from './contract-fixtures.js';

export function acceptedContract(ref: StoreRef): void {
  describe('jobs by provider job id', () => {
    it('finds the job of (provider, provider job id); another provider or id finds nothing', async () => {
      await ref.store.insertJob(makeJob({ id: 'job-a', providerJobId: 'p-1' }));
      await ref.store.insertJob(makeJob({ id: 'job-b', providerJobId: 'p-2', provider: 'other' }));
      expect((await ref.store.findJobByProviderId('acme', 'p-1'))?.id).toBe('job-a');
      expect(await ref.store.findJobByProviderId('other', 'p-1')).toBeUndefined();
      expect(await ref.store.findJobByProviderId('acme', 'p-3')).toBeUndefined();
    });
  });

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
