/**
 * Store contract, part 3: consent tokens and idempotency keys.
 */
import { describe, expect, it } from 'vitest';
import type { ConsentToken } from '../../src/store/store.js';
import { makeJob, makeReserve, T0, type StoreRef } from './contract-fixtures.js';

function token(over: Partial<ConsentToken> = {}): ConsentToken {
  return {
    tokenHash: 'sha-token-1',
    tool: 'acme_video',
    argsHash: 'h-args',
    callerId: 'caller-a',
    createdAt: T0,
    expiresAt: T0 + 600_000,
    ...over,
  };
}

export function keysContract(ref: StoreRef): void {
  describe('consent tokens', () => {
    it('works once, then reports used', async () => {
      await ref.store.putToken(token());
      expect(await ref.store.consumeToken('sha-token-1', 'acme_video', 'h-args', 'caller-a', T0 + 1)).toBe('ok');
      expect(await ref.store.consumeToken('sha-token-1', 'acme_video', 'h-args', 'caller-a', T0 + 2)).toBe('used');
    });

    it('reports unknown for a token never stored', async () => {
      await ref.store.putToken(token());
      expect(await ref.store.consumeToken('sha-other', 'acme_video', 'h-args', 'caller-a', T0)).toBe('unknown');
    });

    it('expires at expiresAt (inclusive)', async () => {
      await ref.store.putToken(token({ tokenHash: 't1' }));
      await ref.store.putToken(token({ tokenHash: 't2' }));
      expect(await ref.store.consumeToken('t1', 'acme_video', 'h-args', 'caller-a', T0 + 600_000)).toBe('expired');
      expect(await ref.store.consumeToken('t1', 'acme_video', 'h-args', 'caller-a', T0 + 999_999)).toBe('expired');
      expect(await ref.store.consumeToken('t2', 'acme_video', 'h-args', 'caller-a', T0 + 599_999)).toBe('ok');
    });

    it('reports mismatch for another tool or arguments, and unknown for another caller, without using the token', async () => {
      await ref.store.putToken(token());
      expect(await ref.store.consumeToken('sha-token-1', 'acme_image', 'h-args', 'caller-a', T0)).toBe('mismatch');
      expect(await ref.store.consumeToken('sha-token-1', 'acme_video', 'h-other', 'caller-a', T0)).toBe('mismatch');
      // Another caller (principal) learns nothing: the same answer as a token that never existed.
      expect(await ref.store.consumeToken('sha-token-1', 'acme_video', 'h-args', 'caller-b', T0)).toBe('unknown');
      expect(await ref.store.consumeToken('sha-token-1', 'acme_video', 'h-args', 'caller-a', T0)).toBe('ok');
      expect(await ref.store.consumeToken('sha-token-1', 'acme_image', 'h-args', 'caller-a', T0)).toBe('used');
    });

    it('checks in order: unknown, used, expired, mismatch', async () => {
      await ref.store.putToken(token({ tokenHash: 't1' }));
      await ref.store.consumeToken('t1', 'acme_video', 'h-args', 'caller-a', T0);
      // used wins over expired and mismatch
      expect(await ref.store.consumeToken('t1', 'other', 'h-other', 'caller-a', T0 + 10_000_000)).toBe('used');
      expect(await ref.store.consumeToken('t1', 'other', 'h-other', 'caller-b', T0 + 10_000_000)).toBe('unknown');
      await ref.store.putToken(token({ tokenHash: 't2' }));
      // expired wins over mismatch
      expect(await ref.store.consumeToken('t2', 'other', 'h-other', 'caller-a', T0 + 10_000_000)).toBe('expired');
    });

    it('lets exactly one of many concurrent consumers use a token', async () => {
      await ref.store.putToken(token());
      const results = await Promise.all(
        Array.from({ length: 20 }, () => ref.store.consumeToken('sha-token-1', 'acme_video', 'h-args', 'caller-a', T0)),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === 'used')).toHaveLength(19);
    });
  });

  describe('idempotency keys', () => {
    it('claims a new key, then reports the existing claim for the same tool and arguments', async () => {
      expect(await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0)).toEqual({ state: 'new' });
      expect(await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0 + 5)).toEqual({
        state: 'existing',
        record: {
          key: 'k1',
          tool: 'acme_image',
          argsHash: 'h-args',
          jobId: null,
          createdAt: T0,
          outcome: 'pending',
          reservationId: null,
        },
      });
    });

    it('reports a conflict for other arguments or another tool', async () => {
      await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0);
      const record = {
        key: 'k1',
        tool: 'acme_image',
        argsHash: 'h-args',
        jobId: null,
        createdAt: T0,
        outcome: 'pending',
        reservationId: null,
      };
      expect(await ref.store.claimIdempotency('k1', 'acme_image', 'h-other', T0 + 1)).toEqual({
        state: 'conflict',
        record,
      });
      expect(await ref.store.claimIdempotency('k1', 'acme_video', 'h-args', T0 + 1)).toEqual({
        state: 'conflict',
        record,
      });
    });

    it('keeps keys independent', async () => {
      expect(await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0)).toEqual({ state: 'new' });
      expect(await ref.store.claimIdempotency('k2', 'acme_image', 'h-args', T0)).toEqual({ state: 'new' });
    });

    it('attaches the job id when settled', async () => {
      await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0);
      await ref.store.settleIdempotency('k1', 'job_1');
      expect(await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0 + 9)).toEqual({
        state: 'existing',
        record: {
          key: 'k1',
          tool: 'acme_image',
          argsHash: 'h-args',
          jobId: 'job_1',
          createdAt: T0,
          outcome: 'job',
          reservationId: null,
        },
      });
      await ref.store.settleIdempotency('k-missing', 'job_2'); // no-op
      expect(await ref.store.claimIdempotency('k-missing', 'acme_image', 'h-args', T0)).toEqual({ state: 'new' });
    });

    it('forgets a dropped claim so the key can be claimed again, even for other arguments', async () => {
      await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0);
      await ref.store.dropIdempotency('k1');
      expect(await ref.store.claimIdempotency('k1', 'acme_video', 'h-other', T0 + 1)).toEqual({ state: 'new' });
      expect(await ref.store.claimIdempotency('k1', 'acme_video', 'h-other', T0 + 2)).toEqual({
        state: 'existing',
        record: {
          key: 'k1',
          tool: 'acme_video',
          argsHash: 'h-other',
          jobId: null,
          createdAt: T0 + 1,
          outcome: 'pending',
          reservationId: null,
        },
      });
      await ref.store.dropIdempotency('k-missing'); // no-op
    });

    it('keeps a key bound with an unknown outcome, naming its reservation', async () => {
      await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0);
      await ref.store.markIdempotencyUnknown('k1', 'res-1');
      expect(await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0 + 9)).toEqual({
        state: 'existing',
        record: {
          key: 'k1',
          tool: 'acme_image',
          argsHash: 'h-args',
          jobId: null,
          createdAt: T0,
          outcome: 'unknown',
          reservationId: 'res-1',
        },
      });
      // a later settle (the job turned up) wins; an unknown mark never overwrites a job
      await ref.store.settleIdempotency('k1', 'job_1');
      await ref.store.markIdempotencyUnknown('k1', 'res-2');
      const again = await ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0 + 10);
      expect(again).toMatchObject({ state: 'existing', record: { jobId: 'job_1', outcome: 'job' } });
      await ref.store.markIdempotencyUnknown('k-missing', 'res-3'); // no-op
    });

    it('gives the key to exactly one of many concurrent claimers', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => ref.store.claimIdempotency('k1', 'acme_image', 'h-args', T0)),
      );
      expect(results.filter((r) => r.state === 'new')).toHaveLength(1);
      expect(results.filter((r) => r.state === 'existing')).toHaveLength(19);
    });
  });

  describe('maintenance', () => {
    it('purges expired or used consent tokens and old settled idempotency keys; never reservations or jobs', async () => {
      await ref.store.putToken(token({ tokenHash: 'old', expiresAt: T0 + 10 }));
      await ref.store.putToken(token({ tokenHash: 'live', expiresAt: T0 + 1_000_000 }));
      await ref.store.putToken(token({ tokenHash: 'used', expiresAt: T0 + 1_000_000 }));
      expect(await ref.store.consumeToken('used', 'acme_video', 'h-args', 'caller-a', T0 + 50)).toBe('ok');
      await ref.store.claimIdempotency('k-old', 'acme_image', 'h', T0);
      await ref.store.settleIdempotency('k-old', 'job-old');
      await ref.store.claimIdempotency('k-new', 'acme_image', 'h', T0 + 500);
      const r = await ref.store.reserve(makeReserve({ now: T0 }));
      await ref.store.insertJob(makeJob({ id: 'job-kept' }));
      expect(await ref.store.purge({ tokensBefore: T0 + 100, keysBefore: T0 + 100 })).toEqual({
        tokens: 1,
        keys: 1,
        approvals: 0,
      });
      expect(await ref.store.consumeToken('old', 'acme_video', 'h-args', 'caller-a', T0)).toBe('unknown');
      expect(await ref.store.consumeToken('live', 'acme_video', 'h-args', 'caller-a', T0)).toBe('ok');
      expect(await ref.store.consumeToken('used', 'acme_video', 'h-args', 'caller-a', T0)).toBe('used');
      expect(await ref.store.claimIdempotency('k-old', 'acme_image', 'h', T0 + 600)).toEqual({ state: 'new' });
      expect((await ref.store.claimIdempotency('k-new', 'acme_image', 'h', T0 + 600)).state).toBe('existing');
      expect((await ref.store.recentSpend(10)).map((x) => x.id)).toEqual([r.ok ? r.reservation.id : '']);
      expect(await ref.store.getJob('job-kept')).toBeDefined();
    });
  });
}
