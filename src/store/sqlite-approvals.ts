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
  refusalOf,
  RETURN_APPROVAL_SQL,
  rowToApproval,
  type ApprovalRow,
} from './approvals-sql.js';
import type { ApprovalRefusal, DeclineApprovalResult, PendingApproval, TakeApprovalResult } from './store.js';

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
  ): ApprovalRow | ApprovalRefusal {
    const row = this.stmt<ApprovalRow>(DECIDE_APPROVAL_SQL).get({ id_hash: idHash, principal, now, to });
    if (row !== undefined) return row;
    return refusalOf(this.stmt<ApprovalRow>(APPROVAL_BY_ID_SQL).get({ id_hash: idHash }), principal, now);
  }

  take(idHash: string, principal: string, now: number): TakeApprovalResult {
    const r = this.decide(idHash, principal, now, 'approved');
    return typeof r === 'string' ? { ok: false, refused: r } : { ok: true, approval: rowToApproval(r), usedAt: now };
  }

  decline(idHash: string, principal: string, now: number): DeclineApprovalResult {
    const r = this.decide(idHash, principal, now, 'declined');
    return typeof r === 'string' ? { ok: false, refused: r } : { ok: true, approval: rowToApproval(r) };
  }

  giveBack(idHash: string, usedAt: number): void {
    this.stmt(RETURN_APPROVAL_SQL).run({ id_hash: idHash, used_at: usedAt });
  }
}
