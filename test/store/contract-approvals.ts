/**
 * Store contract: pending approvals (a person's Approve / Decline in an MCP App view). Single use and
 * atomic across handles (processes, replicas); bound to principal; given back only for the exact take.
 */
import { describe, expect, it } from 'vitest';
import type { PendingApproval } from '../../src/store/store.js';
import { T0 } from './contract-fixtures.js';
import type { PeerRef } from './contract-worker.js';

function approval(over: Partial<PendingApproval> = {}): PendingApproval {
  return {
    idHash: 'sha-approval-1',
    tool: 'acme_video',
    args: { prompt: 'a lantern', duration: 8, nested: { a: [1, 'two', null] } },
    argsHash: 'h-args',
    principal: 'alice',
    callerId: 'session-1',
    expiresAt: T0 + 600_000,
    createdAt: T0,
    ...over,
  };
}

export function approvalsContract(ref: PeerRef): void {
  describe('pending approvals', () => {
    it('is taken once with the call it is bound to, then reports used', async () => {
      const a = approval({ idempotencyKey: 'alice:key-12345678', tokenHash: 'sha-token-fallback' });
      await ref.store.putApproval(a);
      expect(await ref.store.takeApproval(a.idHash, 'alice', T0 + 5)).toEqual({
        ok: true,
        approval: a,
        usedAt: T0 + 5,
      });
      expect(await ref.store.takeApproval(a.idHash, 'alice', T0 + 6)).toEqual({ ok: false, refused: 'used' });
      expect(await ref.store.declineApproval(a.idHash, 'alice', T0 + 7)).toEqual({ ok: false, refused: 'used' });
    });

    it('keeps no idempotency key when the call had none', async () => {
      await ref.store.putApproval(approval());
      const taken = await ref.store.takeApproval('sha-approval-1', 'alice', T0);
      expect(taken.ok && taken.approval).toEqual(approval());
      expect(taken.ok && 'idempotencyKey' in taken.approval).toBe(false);
    });

    it("answers another principal's approval like one never issued, and leaves it pending", async () => {
      await ref.store.putApproval(approval());
      expect(await ref.store.takeApproval('sha-approval-1', 'bob', T0)).toEqual({ ok: false, refused: 'unknown' });
      expect(await ref.store.declineApproval('sha-approval-1', 'bob', T0)).toEqual({ ok: false, refused: 'unknown' });
      expect(await ref.store.takeApproval('sha-never', 'alice', T0)).toEqual({ ok: false, refused: 'unknown' });
      expect((await ref.store.takeApproval('sha-approval-1', 'alice', T0)).ok).toBe(true);
    });

    it('expires at expiresAt (inclusive), for taking and declining alike', async () => {
      await ref.store.putApproval(approval({ idHash: 'a1' }));
      await ref.store.putApproval(approval({ idHash: 'a2' }));
      expect(await ref.store.takeApproval('a1', 'alice', T0 + 600_000)).toEqual({ ok: false, refused: 'expired' });
      expect(await ref.store.declineApproval('a1', 'alice', T0 + 600_001)).toEqual({ ok: false, refused: 'expired' });
      expect((await ref.store.takeApproval('a2', 'alice', T0 + 599_999)).ok).toBe(true);
    });

    it('a declined approval is final: neither taken nor declined again', async () => {
      await ref.store.putApproval(approval());
      expect(await ref.store.declineApproval('sha-approval-1', 'alice', T0 + 1)).toEqual({
        ok: true,
        approval: approval(),
      });
      expect(await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 2)).toEqual({
        ok: false,
        refused: 'declined',
      });
      expect(await ref.store.declineApproval('sha-approval-1', 'alice', T0 + 3)).toEqual({
        ok: false,
        refused: 'declined',
      });
      // Giving back revives only a take, never a decline.
      await ref.store.returnApproval('sha-approval-1', T0 + 1);
      expect(await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 4)).toEqual({
        ok: false,
        refused: 'declined',
      });
    });

    it('given back after a refusal it can be taken again; only that exact take is undone', async () => {
      await ref.store.putApproval(approval());
      const first = await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 10);
      expect(first.ok).toBe(true);
      await ref.store.returnApproval('sha-approval-1', T0 + 9); // not this take: nothing changes
      expect(await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 11)).toEqual({ ok: false, refused: 'used' });
      await ref.store.returnApproval('sha-approval-1', T0 + 10);
      const again = await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 12);
      expect(again).toEqual({ ok: true, approval: approval(), usedAt: T0 + 12 });
      // A stale give-back of the first take does not revive the second.
      await ref.store.returnApproval('sha-approval-1', T0 + 10);
      expect(await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 13)).toEqual({ ok: false, refused: 'used' });
    });

    it('lets exactly one of many concurrent takers, on two handles, take it', async () => {
      await ref.store.putApproval(approval());
      const peer = await ref.peer();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? peer : ref.store).takeApproval('sha-approval-1', 'alice', T0)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.refused === 'used')).toHaveLength(19);
    });

    it('a take and a decline racing: exactly one wins', async () => {
      await ref.store.putApproval(approval());
      const peer = await ref.peer();
      const [taken, declined] = await Promise.all([
        ref.store.takeApproval('sha-approval-1', 'alice', T0),
        peer.declineApproval('sha-approval-1', 'alice', T0),
      ]);
      expect([taken.ok, declined.ok].filter(Boolean)).toHaveLength(1);
    });

    it('using its fallback token uses the approval; only that exact use is given back', async () => {
      await ref.store.putApproval(approval({ tokenHash: 'sha-token-fallback' }));
      await ref.store.useApprovalToken('sha-token-other', T0 + 1); // another token: nothing changes
      expect((await ref.store.takeApproval('sha-approval-1', 'alice', T0 + 1)).ok).toBe(true);
      await ref.store.putApproval(approval({ idHash: 'a2', tokenHash: 'sha-token-2' }));
      await ref.store.useApprovalToken('sha-token-2', T0 + 5);
      expect(await ref.store.declineApproval('a2', 'alice', T0 + 6)).toEqual({ ok: false, refused: 'used' });
      await ref.store.returnApprovalToken('sha-token-2', T0 + 4); // not that use
      expect(await ref.store.takeApproval('a2', 'alice', T0 + 6)).toEqual({ ok: false, refused: 'used' });
      await ref.store.returnApprovalToken('sha-token-2', T0 + 5);
      expect((await ref.store.takeApproval('a2', 'alice', T0 + 7)).ok).toBe(true);
    });

    it('a used approval names the reservation bound to it (by its id or by its token)', async () => {
      await ref.store.putApproval(approval({ idHash: 'by-id' }));
      await ref.store.putApproval(approval({ idHash: 'by-token', tokenHash: 'sha-token-b' }));
      expect((await ref.store.takeApproval('by-id', 'alice', T0)).ok).toBe(true);
      expect(await ref.store.takeApproval('by-id', 'alice', T0 + 1)).toEqual({ ok: false, refused: 'used' });
      await ref.store.bindApprovalReservation({ idHash: 'by-id' }, 'job_1');
      expect(await ref.store.takeApproval('by-id', 'alice', T0 + 2)).toEqual({
        ok: false,
        refused: 'used',
        reservation: 'job_1',
      });
      await ref.store.useApprovalToken('sha-token-b', T0);
      await ref.store.bindApprovalReservation({ tokenHash: 'sha-token-b' }, 'job_2');
      expect(await ref.store.declineApproval('by-token', 'alice', T0 + 1)).toEqual({
        ok: false,
        refused: 'used',
        reservation: 'job_2',
      });
    });

    it('supersede declines only the live pending approvals of that exact call', async () => {
      const call = { tool: 'acme_video', argsHash: 'h-args', principal: 'alice', callerId: 'session-1' };
      await ref.store.putApproval(approval({ idHash: 'p1' }));
      await ref.store.putApproval(approval({ idHash: 'other-args', argsHash: 'h-other' }));
      await ref.store.putApproval(approval({ idHash: 'other-caller', callerId: 'session-2' }));
      await ref.store.putApproval(approval({ idHash: 'taken' }));
      await ref.store.takeApproval('taken', 'alice', T0);
      expect(await ref.store.supersedeApprovals({ ...call, now: T0 + 1 })).toBe(1);
      expect(await ref.store.takeApproval('p1', 'alice', T0 + 2)).toEqual({ ok: false, refused: 'declined' });
      expect(await ref.store.supersedeApprovals({ ...call, now: T0 + 2 })).toBe(0);
      expect((await ref.store.takeApproval('other-args', 'alice', T0 + 2)).ok).toBe(true);
      expect((await ref.store.takeApproval('other-caller', 'alice', T0 + 2)).ok).toBe(true);
    });

    it('maintenance purges expired approvals (decided or not) and keeps live ones', async () => {
      await ref.store.putApproval(approval({ idHash: 'old', expiresAt: T0 + 10 }));
      await ref.store.putApproval(approval({ idHash: 'old-used', expiresAt: T0 + 10 }));
      await ref.store.takeApproval('old-used', 'alice', T0);
      await ref.store.putApproval(approval({ idHash: 'live' }));
      expect(await ref.store.purge({ tokensBefore: T0 + 100, keysBefore: T0 })).toEqual({
        tokens: 0,
        keys: 0,
        approvals: 2,
      });
      expect(await ref.store.takeApproval('old', 'alice', T0)).toEqual({ ok: false, refused: 'unknown' });
      expect((await ref.store.takeApproval('live', 'alice', T0 + 100)).ok).toBe(true);
    });
  });
}
