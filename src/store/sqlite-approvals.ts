/**
 * Pending approvals in the SQLite store (see approvals-sql.ts). Each decision is one conditional
 * UPDATE … RETURNING, which SQLite runs under its write lock: of two processes on one file taking the same
 * approval at once, exactly one gets the row.
 */
import type { SqlStatement } from './sqlite-driver.js';
import {
  approvalParams,
  APPROVAL_BY_ID_SQL,
  DECIDE_APPROVAL_SQL,
  INSERT_APPROVAL_SQL,
  refusedOf,
  BIND_APPROVAL_SQL,
  RETURN_APPROVAL_BY_TOKEN_SQL,
  RETURN_APPROVAL_SQL,
  SUPERSEDE_APPROVALS_SQL,
  USE_APPROVAL_BY_TOKEN_SQL,
  rowToApproval,
  type ApprovalRow,
} from './approvals-sql.js';
import type { ApprovalRefused, DeclineApprovalResult, PendingApproval, TakeApprovalResult } from './store.js';

type Prepare = <R = unknown>(sql: string) => SqlStatement<R>;

export class SqliteApprovals {
  constructor(private readonly stmt: Prepare) {}

  put(a: PendingApproval): void {
    this.stmt(INSERT_APPROVAL_SQL).run(approvalParams(a));
  }

  private decide(
    idHash: string,
    principal: string,
    now: number,
    to: 'approved' | 'declined',
  ): ApprovalRow | ApprovalRefused {
    const row = this.stmt<ApprovalRow>(DECIDE_APPROVAL_SQL).get({ id_hash: idHash, principal, now, to });
    if (row !== undefined) return row;
    return refusedOf(this.stmt<ApprovalRow>(APPROVAL_BY_ID_SQL).get({ id_hash: idHash }), principal, now);
  }

  take(idHash: string, principal: string, now: number): TakeApprovalResult {
    const r = this.decide(idHash, principal, now, 'approved');
    return 'refused' in r ? { ok: false, ...r } : { ok: true, approval: rowToApproval(r), usedAt: now };
  }

  decline(idHash: string, principal: string, now: number): DeclineApprovalResult {
    const r = this.decide(idHash, principal, now, 'declined');
    return 'refused' in r ? { ok: false, ...r } : { ok: true, approval: rowToApproval(r) };
  }

  giveBack(idHash: string, usedAt: number): void {
    this.stmt(RETURN_APPROVAL_SQL).run({ id_hash: idHash, used_at: usedAt });
  }

  useToken(tokenHash: string, now: number): void {
    this.stmt(USE_APPROVAL_BY_TOKEN_SQL).run({ token_hash: tokenHash, now });
  }

  returnToken(tokenHash: string, usedAt: number): void {
    this.stmt(RETURN_APPROVAL_BY_TOKEN_SQL).run({ token_hash: tokenHash, used_at: usedAt });
  }

  bind(by: { idHash?: string; tokenHash?: string }, reservation: string): void {
    this.stmt(BIND_APPROVAL_SQL).run({ id_hash: by.idHash ?? null, token_hash: by.tokenHash ?? null, reservation });
  }

  supersede(q: { tool: string; argsHash: string; principal: string; callerId: string; now: number }): number {
    const params = { tool: q.tool, args_hash: q.argsHash, principal: q.principal, caller_id: q.callerId, now: q.now };
    return Number(this.stmt(SUPERSEDE_APPROVALS_SQL).run(params).changes);
  }
}
