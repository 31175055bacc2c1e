/**
 * Schema and SQL of pending approvals in both stores (SQLite migration 7, PostgreSQL migration 5): the
 * approvals a person clicks in an MCP App view (DESIGN §12).
 *
 * An approval is bound to tool, canonical arguments (kept in full, so the approval can run the call, plus
 * their hash), principal, caller and expiry, and works once. States of a row:
 * - pending: created with a CONFIRMATION_REQUIRED answer; nothing was sent.
 * - approved: taken by one conditional UPDATE (state = 'pending' AND expires_at > now), so of two
 *   processes or replicas taking it at once exactly one gets it. Given back to pending (only that exact
 *   take: decided_at = the time of the take) when the call was refused before anything was sent.
 * - declined: the person said no; final.
 * An approval issued with a confirm_token as the fallback names the token's hash: the two are one consent.
 * Using the token marks the approval approved; Approve uses the token up; Decline burns the token and
 * answers from that verdict (a token already used means the call was sent, not "nothing sent").
 * quote: the credits quoted when it was asked for ({"credits": null} = unknown); an Approve whose call now
 * quotes higher (or unknown) is refused with nothing sent, and the approval is closed (declined).
 * reservation: the reservation (= job id) the approved call runs under, recorded before anything is sent,
 * so a second Approve or a Decline of a used approval names it instead of saying nothing was sent.
 * Expiry is not a state: a pending row past expires_at is refused as expired, and purged with the tokens.
 * The approval id itself is never stored, only its SHA-256 (as with consent tokens).
 */
import type { ApprovalRefusal, ApprovalRefused, PendingApproval } from './store.js';

const TABLE = (time: string) => `
  CREATE TABLE approvals (
    id_hash         TEXT PRIMARY KEY,
    tool            TEXT NOT NULL,
    args            TEXT NOT NULL,
    args_hash       TEXT NOT NULL,
    principal       TEXT NOT NULL,
    caller_id       TEXT NOT NULL,
    idempotency_key TEXT,
    token_hash      TEXT,
    reservation     TEXT,
    quote           TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined')),
    expires_at      ${time} NOT NULL,
    created_at      ${time} NOT NULL,
    decided_at      ${time}
  );
  CREATE INDEX approvals_by_expiry ON approvals (expires_at);
  CREATE INDEX approvals_by_token ON approvals (token_hash);
  CREATE INDEX approvals_by_call ON approvals (principal, args_hash);
`;

/** SQLite migration 7. */
export const SQLITE_APPROVALS_MIGRATION = TABLE('INTEGER');
/** PostgreSQL migration 5 (SQLite's 7). */
export const PG_APPROVALS_MIGRATION = TABLE('BIGINT');

export const INSERT_APPROVAL_SQL = `INSERT INTO approvals (id_hash, tool, args, args_hash, principal, caller_id,
    idempotency_key, token_hash, quote, state, expires_at, created_at, decided_at)
  VALUES (@id_hash, @tool, @args, @args_hash, @principal, @caller_id, @idempotency_key, @token_hash, @quote, 'pending',
    @expires_at, @created_at, NULL)`;

/** pending -> `@to` (approved | declined), in one statement: of concurrent takers exactly one matches. */
export const DECIDE_APPROVAL_SQL = `UPDATE approvals SET state = @to, decided_at = @now
  WHERE id_hash = @id_hash AND principal = @principal AND state = 'pending' AND expires_at > @now RETURNING *`;

/** approved -> pending, for that exact take only. */
export const RETURN_APPROVAL_SQL = `UPDATE approvals SET state = 'pending', decided_at = NULL
  WHERE id_hash = @id_hash AND state = 'approved' AND decided_at = @used_at`;

/** The fallback token was used: its approval is used too (pending -> approved), so Decline cannot say "nothing sent". */
export const USE_APPROVAL_BY_TOKEN_SQL = `UPDATE approvals SET state = 'approved', decided_at = @now
  WHERE token_hash = @token_hash AND state = 'pending'`;

/** approved -> pending for the take by that token at `used_at` only (the call was refused before anything was sent). */
export const RETURN_APPROVAL_BY_TOKEN_SQL = `UPDATE approvals SET state = 'pending', decided_at = NULL
  WHERE token_hash = @token_hash AND state = 'approved' AND decided_at = @used_at`;

/** The reservation the approval's call runs under, recorded before anything is sent. */
export const BIND_APPROVAL_SQL = `UPDATE approvals SET reservation = @reservation
  WHERE (id_hash = @id_hash OR token_hash = @token_hash)`;

/**
 * A form is asked for a call whose approval view is still pending (the same caller asked again): the pending
 * approvals of that call are closed (declined) first, so the view cannot run it a second time.
 */
export const SUPERSEDE_APPROVALS_SQL = `UPDATE approvals SET state = 'declined', decided_at = @now
  WHERE principal = @principal AND args_hash = @args_hash AND tool = @tool AND caller_id = @caller_id
    AND state = 'pending' AND expires_at > @now`;

export const APPROVAL_BY_ID_SQL = 'SELECT * FROM approvals WHERE id_hash = @id_hash';

export const PURGE_APPROVALS_SQL = 'DELETE FROM approvals WHERE expires_at < @before';

export interface ApprovalRow {
  id_hash: string;
  tool: string;
  args: string;
  args_hash: string;
  principal: string;
  caller_id: string;
  idempotency_key: string | null;
  token_hash: string | null;
  reservation: string | null;
  quote: string | null;
  state: 'pending' | 'approved' | 'declined';
  expires_at: number;
  created_at: number;
  decided_at: number | null;
}

export function approvalParams(a: PendingApproval): Record<string, unknown> {
  return {
    id_hash: a.idHash,
    tool: a.tool,
    args: JSON.stringify(a.args),
    args_hash: a.argsHash,
    principal: a.principal,
    caller_id: a.callerId,
    idempotency_key: a.idempotencyKey ?? null,
    token_hash: a.tokenHash ?? null,
    quote: a.quotedCredits !== undefined ? JSON.stringify({ credits: a.quotedCredits }) : null,
    expires_at: a.expiresAt,
    created_at: a.createdAt,
  };
}

export function rowToApproval(r: ApprovalRow): PendingApproval {
  return {
    idHash: r.id_hash,
    tool: r.tool,
    args: JSON.parse(r.args) as Record<string, unknown>,
    argsHash: r.args_hash,
    principal: r.principal,
    callerId: r.caller_id,
    ...(r.idempotency_key !== null ? { idempotencyKey: r.idempotency_key } : {}),
    ...(r.token_hash !== null ? { tokenHash: r.token_hash } : {}),
    ...(r.quote !== null ? { quotedCredits: (JSON.parse(r.quote) as { credits: number | null }).credits } : {}),
    expiresAt: r.expires_at,
    createdAt: r.created_at,
  };
}

/**
 * Why a decision found no pending row: another principal's approval answers like one that never existed.
 * Checked in order: unknown, used (approved), declined, expired.
 */
export function refusedOf(row: ApprovalRow | undefined, principal: string, now: number): ApprovalRefused {
  const refused = refusalOf(row, principal, now);
  return refused === 'used' && row?.reservation ? { refused, reservation: row.reservation } : { refused };
}

function refusalOf(row: ApprovalRow | undefined, principal: string, now: number): ApprovalRefusal {
  if (row === undefined || row.principal !== principal) return 'unknown';
  if (row.state === 'approved') return 'used';
  if (row.state === 'declined') return 'declined';
  if (now >= row.expires_at) return 'expired';
  // Pending and live, yet the conditional update missed it: taken and given back in between. Say used.
  return 'used';
}
