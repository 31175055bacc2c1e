/**
 * The PostgreSQL Store, for several replicas sharing one database (`DATABASE_URL`, a `pg` pool).
 * Exactness across replicas: a cap reservation runs in one transaction holding a transaction-scoped
 * advisory lock per provider (so two replicas never both see the same spend); a consent token is used
 * by one conditional UPDATE; an idempotency key is claimed by one INSERT … ON CONFLICT DO NOTHING.
 * Every method is one statement or one transaction: a lost connection leaves nothing half-written.
 */
import { PgDb, type PgOptions } from './postgres-db.js';
import { named } from './postgres-schema.js';
import { REFUNDED_SINCE_SQL } from './worker-sql.js';
import {
  REFUNDS_BY_PROVIDER_SQL,
  REFUNDS_SQL,
  refundsLimit,
  rowToDaySpend,
  SPEND_BY_DAY_SQL,
  type DaySpendRow,
} from './spend-sql.js';
import { PgWorkerSql } from './pg-worker.js';
import {
  approvalParams,
  APPROVAL_BY_ID_SQL,
  DECIDE_APPROVAL_SQL,
  INSERT_APPROVAL_SQL,
  PURGE_APPROVALS_SQL,
  refusedOf,
  BIND_APPROVAL_SQL,
  RETURN_APPROVAL_BY_TOKEN_SQL,
  SUPERSEDE_APPROVALS_SQL,
  USE_APPROVAL_BY_TOKEN_SQL,
  RETURN_APPROVAL_SQL,
  rowToApproval,
  type ApprovalRow,
} from './approvals-sql.js';
import { clampLimit, encodeCursor, listJobsSql, updateJobSql } from './sqlite-jobs.js';
import {
  jobToRow,
  rowToIdempotency,
  rowToJob,
  rowToObservation,
  rowToReservation,
  tokenToRow,
  type IdempotencyRow,
  type JobRow,
  type ObservationRow,
  type ReservationRow,
  type TokenRow,
} from './sqlite-schema.js';
import {
  activityParams,
  OBSERVED_SUMMARY_PG,
  OTHER_ACTIVITY_SQL,
  rowToObserved,
  type SummaryRow,
} from './observed-sql.js';
import type {
  UncertainQuery,
  ActivityQuery,
  DaySpend,
  DaySpendQuery,
  ProviderRefunds,
  RefundQuery,
  ClaimResult,
  ConsentToken,
  ConsumeResult,
  ApprovalRefused,
  DeclineApprovalResult,
  JobPage,
  PendingApproval,
  PurgeCounts,
  TakeApprovalResult,
  JobPatch,
  UpdateOptions,
  JobQuery,
  JobRecord,
  LeaseQuery,
  ObservedPrice,
  PriceObservation,
  RateSlotQuery,
  ReserveRequest,
  ReserveResult,
  Reservation,
  SpendQuery,
  SpendTotals,
  Store,
  ToolOutcome,
} from './store.js';
import {
  BY_PROVIDER_JOB_SQL,
  CAP_EPSILON,
  COUNTING_SQL,
  SETTLED_KEY_SQL,
  newReservation,
  roundCredits,
} from './store.js';

const EPSILON = CAP_EPSILON;
const credits = roundCredits;
const COUNTING = COUNTING_SQL;

export type { PgOptions };

export class PgStore implements Store {
  readonly kind = 'postgres' as const;

  private readonly worker: PgWorkerSql;

  private constructor(private readonly db: PgDb) {
    this.worker = new PgWorkerSql(db);
  }

  /** Connects, creates the schema if asked, and applies the missing migrations under an advisory lock. */
  static async open(url: string, opts: PgOptions = {}): Promise<PgStore> {
    return new PgStore(await PgDb.open(url, opts));
  }

  // ---- jobs ----

  async insertJob(job: JobRecord): Promise<void> {
    const r = jobToRow(job);
    const cols = Object.keys(r);
    await this.db.q(
      `INSERT INTO jobs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(r),
    );
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.q<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : rowToJob(rows[0]);
  }

  async jobByProviderId(provider: string, providerJobId: string): Promise<JobRecord | undefined> {
    const { text, values } = named(BY_PROVIDER_JOB_SQL, { provider, providerJobId });
    const { rows } = await this.db.q<JobRow>(text, values);
    return rows[0] === undefined ? undefined : rowToJob(rows[0]);
  }

  async updateJob(id: string, patch: JobPatch, now: number, opts?: UpdateOptions): Promise<JobRecord | undefined> {
    const { sql, params } = updateJobSql(id, patch, now, opts);
    const { text, values } = named(`${sql} RETURNING *`, params);
    const { rows } = await this.db.q<JobRow>(text, values);
    return rows[0] === undefined ? undefined : rowToJob(rows[0]);
  }

  async listJobs(q: JobQuery): Promise<JobPage> {
    const limit = clampLimit(q.limit);
    const { sql, params } = listJobsSql(q);
    const { text, values } = named(sql, params);
    const { rows } = await this.db.q<JobRow>(text, values);
    const jobs = rows.slice(0, limit).map(rowToJob);
    const last = jobs[jobs.length - 1];
    return rows.length > limit && last !== undefined ? { jobs, nextCursor: encodeCursor(last) } : { jobs };
  }

  // ---- background worker (pg-worker.ts) ----

  leaseDueJobs(q: LeaseQuery): Promise<JobRecord[]> {
    return this.worker.leaseDueJobs(q);
  }

  releaseLease(id: string, owner: string, next: { nextPollAt: number | null; errors: number }): Promise<boolean> {
    return this.worker.releaseLease(id, owner, next);
  }

  renewLease(id: string, owner: string, until: number): Promise<boolean> {
    return this.worker.renewLease(id, owner, until);
  }

  nextDueAt(
    providers?: readonly string[],
    principals?: readonly string[],
    exclude?: readonly string[],
  ): Promise<number | undefined> {
    return this.worker.nextDueAt(providers, principals, exclude);
  }

  pokeJob(id: string, now: number): Promise<boolean> {
    return this.worker.pokeJob(id, now);
  }

  takeWebhook(capabilityHash: string, now: number): Promise<JobRecord | undefined> {
    return this.worker.takeWebhook(capabilityHash, now);
  }

  takeRateSlot(q: RateSlotQuery): Promise<number> {
    return this.worker.takeRateSlot(q);
  }

  toolOutcomes(q: { since: number; principal?: string }): Promise<ToolOutcome[]> {
    return this.worker.toolOutcomes(q);
  }

  openJobCounts(): Promise<Record<string, number>> {
    return this.worker.openJobCounts();
  }

  uncertainReservations(q: UncertainQuery): Promise<Reservation[]> {
    return this.worker.uncertainReservations(q);
  }

  async refundedSince(q: { principal: string; since: number }): Promise<{ count: number; credits: number }> {
    const { text, values } = named(REFUNDED_SINCE_SQL, q);
    const { rows } = await this.db.q<{ n: string | number; credits: string | number }>(text, values);
    return { count: Number(rows[0]?.n ?? 0), credits: credits(Number(rows[0]?.credits ?? 0)) };
  }

  async spendByDay(q: DaySpendQuery): Promise<DaySpend[]> {
    const { principal, fromDay, olderThan } = q;
    const { text, values } = named(SPEND_BY_DAY_SQL, { principal, fromDay, olderThan });
    return (await this.db.q<DaySpendRow>(text, values)).rows.map(rowToDaySpend);
  }

  async refundsByProvider(q: { principal: string; since: number }): Promise<ProviderRefunds[]> {
    const { text, values } = named(REFUNDS_BY_PROVIDER_SQL, q);
    const { rows } = await this.db.q<{ provider: string; n: string | number; credits: string | number }>(text, values);
    return rows.map((r) => ({ provider: r.provider, count: Number(r.n), credits: credits(Number(r.credits)) }));
  }

  async refundsSince(q: RefundQuery): Promise<Reservation[]> {
    const params = { principal: q.principal, since: q.since, limit: refundsLimit(q.limit) };
    const { text, values } = named(REFUNDS_SQL, params);
    return (await this.db.q<ReservationRow>(text, values)).rows.map(rowToReservation);
  }

  // ---- spend ----

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    if (!Number.isFinite(r.credits) || r.credits < 0)
      throw new Error(`reserve: credits must be a finite number >= 0, got ${r.credits}`);
    return this.db.tx(async (c): Promise<ReserveResult> => {
      // Serialise reservations per provider across every replica until this transaction ends.
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended('mediagen:reserve:' || $1, 0))", [r.provider]);
      if (r.sessionCap !== undefined) {
        const { rows } = await c.query<{ used: number }>(
          `SELECT COALESCE(SUM(credits), 0) AS used FROM reservations
           WHERE provider = $1 AND caller_id = $2 AND state IN ${COUNTING}`,
          [r.provider, r.callerId],
        );
        const used = rows[0].used;
        if (used + r.credits > r.sessionCap + EPSILON)
          return { ok: false, scope: 'session', cap: r.sessionCap, used: credits(used) };
      }
      if (r.dayCap !== undefined) {
        const { rows } = await c.query<{ used: number }>(
          `SELECT COALESCE(SUM(credits), 0) AS used FROM reservations
           WHERE provider = $1 AND principal = $2 AND day = $3 AND state IN ${COUNTING}`,
          [r.provider, r.principal, r.day],
        );
        const used = rows[0].used;
        if (used + r.credits > r.dayCap + EPSILON)
          return { ok: false, scope: 'day', cap: r.dayCap, used: credits(used) };
      }
      await c.query(
        `INSERT INTO reservations (id, provider, tool, caller_id, principal, day, credits, args_hash, state, job_id,
           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'reserved', NULL, $9, $9)`,
        [r.id, r.provider, r.tool, r.callerId, r.principal, r.day, r.credits, r.argsHash, r.now],
      );
      return {
        ok: true,
        reservation: newReservation(r),
      };
    });
  }

  async commit(id: string, jobId: string, now: number, amount?: number): Promise<void> {
    if (amount !== undefined && !(Number.isFinite(amount) && amount >= 0))
      throw new RangeError(`credits must be a finite number >= 0, got ${amount}`);
    await this.db.q(
      `UPDATE reservations SET state = 'committed', job_id = $1, updated_at = $2,
         credits = COALESCE($3::double precision, credits)
       WHERE id = $4 AND state IN ('reserved', 'uncertain')`,
      [jobId, now, amount ?? null, id],
    );
  }

  async release(id: string, now: number): Promise<void> {
    await this.db.q(
      `UPDATE reservations SET state = 'released', updated_at = $1 WHERE id = $2 AND state IN ('reserved', 'uncertain')`,
      [now, id],
    );
  }

  async refund(id: string, now: number): Promise<void> {
    await this.db.q(
      `UPDATE reservations SET state = 'refunded', updated_at = $1
       WHERE (id = $2 OR job_id = $2) AND state IN ('committed', 'uncertain')`,
      [now, id],
    );
  }

  async markUncertain(id: string, now: number): Promise<void> {
    await this.db.q(
      `UPDATE reservations SET state = 'uncertain', updated_at = $1 WHERE id = $2 AND state = 'reserved'`,
      [now, id],
    );
  }

  async spendTotals(q: SpendQuery): Promise<SpendTotals[]> {
    const stale = `(state = 'reserved' AND $3::bigint IS NOT NULL AND created_at < $3::bigint)`;
    const { rows } = await this.db.q<SpendTotals>(
      `SELECT provider,
         COALESCE(SUM(CASE WHEN state = 'committed' THEN credits END), 0) AS committed,
         COALESCE(SUM(CASE WHEN state = 'reserved' AND NOT ${stale} THEN credits END), 0) AS reserved,
         COALESCE(SUM(CASE WHEN state = 'uncertain' OR ${stale} THEN credits END), 0) AS uncertain,
         COALESCE(SUM(CASE WHEN state = 'refunded' THEN credits END), 0) AS refunded,
         COALESCE(SUM(CASE WHEN state = 'released' THEN credits END), 0) AS released
       FROM reservations
       WHERE ($1::text IS NULL OR caller_id = $1::text) AND ($2::text IS NULL OR day = $2::text)
         AND ($4::text IS NULL OR principal = $4::text)
       GROUP BY provider ORDER BY provider`,
      [q.callerId ?? null, q.day ?? null, q.olderThan ?? null, q.principal ?? null],
    );
    return rows.map((r) => ({
      provider: r.provider,
      committed: credits(r.committed),
      reserved: credits(r.reserved),
      uncertain: credits(r.uncertain),
      refunded: credits(r.refunded),
      released: credits(r.released),
    }));
  }

  async recentSpend(limit: number, principal?: string): Promise<Reservation[]> {
    const n = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
    const { rows } = await this.db.q<ReservationRow>(
      `SELECT * FROM reservations WHERE ($2::text IS NULL OR principal = $2::text)
       ORDER BY created_at DESC, id DESC LIMIT $1`,
      [n, principal ?? null],
    );
    return rows.map(rowToReservation);
  }

  async getReservation(id: string): Promise<Reservation | undefined> {
    const { rows } = await this.db.q<ReservationRow>('SELECT * FROM reservations WHERE id = $1', [id]);
    return rows[0] ? rowToReservation(rows[0]) : undefined;
  }

  async reservationOfJob(jobId: string): Promise<Reservation | undefined> {
    const { rows } = await this.db.q<ReservationRow>(
      'SELECT * FROM reservations WHERE job_id = $1 ORDER BY created_at LIMIT 1',
      [jobId],
    );
    return rows[0] ? rowToReservation(rows[0]) : undefined;
  }

  // ---- consent tokens ----

  async putToken(t: ConsentToken): Promise<void> {
    const r = tokenToRow(t);
    await this.db.q(
      `INSERT INTO consent_tokens (token_hash, tool, args_hash, caller_id, expires_at, created_at, used_at)
       VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
      [r.token_hash, r.tool, r.args_hash, r.caller_id, r.expires_at, r.created_at],
    );
  }

  async consumeToken(
    tokenHash: string,
    tool: string,
    argsHash: string,
    callerId: string,
    now: number,
  ): Promise<ConsumeResult> {
    // One conditional statement: of two replicas replaying the same token at once, exactly one updates it.
    const used = await this.db.q(
      `UPDATE consent_tokens SET used_at = $5
       WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $5 AND tool = $2 AND args_hash = $3
         AND caller_id = $4`,
      [tokenHash, tool, argsHash, callerId, now],
    );
    if (used.rowCount === 1) return 'ok';
    const { rows } = await this.db.q<TokenRow>('SELECT * FROM consent_tokens WHERE token_hash = $1', [tokenHash]);
    const t = rows[0];
    // Another caller's token answers exactly like one that does not exist.
    if (t === undefined || t.caller_id !== callerId) return 'unknown';
    if (t.used_at !== null) return 'used';
    if (now >= t.expires_at) return 'expired';
    return 'mismatch';
  }

  async returnToken(tokenHash: string, usedAt: number): Promise<void> {
    await this.db.q('UPDATE consent_tokens SET used_at = NULL WHERE token_hash = $1 AND used_at = $2', [
      tokenHash,
      usedAt,
    ]);
  }

  // ---- pending approvals (approvals-sql.ts): each decision is one conditional UPDATE … RETURNING ----

  async putApproval(a: PendingApproval): Promise<void> {
    const { text, values } = named(INSERT_APPROVAL_SQL, approvalParams(a));
    await this.db.q(text, values);
  }

  /** pending -> `to` in one statement; when nothing matched, why not. */
  private async decide(
    idHash: string,
    principal: string,
    now: number,
    to: 'approved' | 'declined',
  ): Promise<ApprovalRow | ApprovalRefused> {
    const decided = named(DECIDE_APPROVAL_SQL, { id_hash: idHash, principal, now, to });
    const { rows } = await this.db.q<ApprovalRow>(decided.text, decided.values);
    if (rows[0] !== undefined) return rows[0];
    const found = named(APPROVAL_BY_ID_SQL, { id_hash: idHash });
    return refusedOf((await this.db.q<ApprovalRow>(found.text, found.values)).rows[0], principal, now);
  }

  async takeApproval(idHash: string, principal: string, now: number): Promise<TakeApprovalResult> {
    const r = await this.decide(idHash, principal, now, 'approved');
    return 'refused' in r ? { ok: false, ...r } : { ok: true, approval: rowToApproval(r), usedAt: now };
  }

  async declineApproval(idHash: string, principal: string, now: number): Promise<DeclineApprovalResult> {
    const r = await this.decide(idHash, principal, now, 'declined');
    return 'refused' in r ? { ok: false, ...r } : { ok: true, approval: rowToApproval(r) };
  }

  async returnApproval(idHash: string, usedAt: number): Promise<void> {
    const { text, values } = named(RETURN_APPROVAL_SQL, { id_hash: idHash, used_at: usedAt });
    await this.db.q(text, values);
  }

  async useApprovalToken(tokenHash: string, now: number): Promise<void> {
    const { text, values } = named(USE_APPROVAL_BY_TOKEN_SQL, { token_hash: tokenHash, now });
    await this.db.q(text, values);
  }

  async returnApprovalToken(tokenHash: string, usedAt: number): Promise<void> {
    const { text, values } = named(RETURN_APPROVAL_BY_TOKEN_SQL, { token_hash: tokenHash, used_at: usedAt });
    await this.db.q(text, values);
  }

  async bindApprovalReservation(by: { idHash?: string; tokenHash?: string }, reservation: string): Promise<void> {
    const params = { id_hash: by.idHash ?? null, token_hash: by.tokenHash ?? null, reservation };
    const { text, values } = named(BIND_APPROVAL_SQL, params);
    await this.db.q(text, values);
  }

  async supersedeApprovals(q: {
    tool: string;
    argsHash: string;
    principal: string;
    callerId: string;
    now: number;
  }): Promise<number> {
    const params = { tool: q.tool, args_hash: q.argsHash, principal: q.principal, caller_id: q.callerId, now: q.now };
    const { text, values } = named(SUPERSEDE_APPROVALS_SQL, params);
    return (await this.db.q(text, values)).rowCount ?? 0;
  }

  // ---- idempotency keys ----

  async claimIdempotency(key: string, tool: string, argsHash: string, now: number): Promise<ClaimResult> {
    for (;;) {
      const inserted = await this.db.q(
        `INSERT INTO idempotency_keys (key, tool, args_hash, job_id, created_at) VALUES ($1, $2, $3, NULL, $4)
         ON CONFLICT (key) DO NOTHING`,
        [key, tool, argsHash, now],
      );
      if (inserted.rowCount === 1) return { state: 'new' };
      const { rows } = await this.db.q<IdempotencyRow>('SELECT * FROM idempotency_keys WHERE key = $1', [key]);
      const row = rows[0];
      if (row === undefined) continue; // dropped between the two statements: claim again
      const record = rowToIdempotency(row);
      return row.tool === tool && row.args_hash === argsHash
        ? { state: 'existing', record }
        : { state: 'conflict', record };
    }
  }

  async settleIdempotency(key: string, jobId: string): Promise<void> {
    await this.db.q(`UPDATE idempotency_keys SET job_id = $1, outcome = 'job' WHERE key = $2`, [jobId, key]);
  }

  async bindIdempotencyReservation(key: string, reservationId: string): Promise<void> {
    await this.db.q(
      `UPDATE idempotency_keys SET reservation_id = $1 WHERE key = $2 AND outcome = 'pending' AND job_id IS NULL`,
      [reservationId, key],
    );
  }

  async settleIdempotencyByReservation(reservationId: string, jobId: string): Promise<number> {
    const r = await this.db.q(
      `UPDATE idempotency_keys SET job_id = $1, outcome = 'job' WHERE reservation_id = $2 AND outcome <> 'job'`,
      [jobId, reservationId],
    );
    return r.rowCount ?? 0;
  }

  async markIdempotencyUnknown(key: string, reservationId: string): Promise<void> {
    await this.db.q(
      `UPDATE idempotency_keys SET outcome = 'unknown', reservation_id = $1 WHERE key = $2 AND outcome = 'pending'`,
      [reservationId, key],
    );
  }

  async dropIdempotency(key: string): Promise<void> {
    await this.db.q('DELETE FROM idempotency_keys WHERE key = $1', [key]);
  }

  // ---- observed prices ----

  async recordObservation(o: PriceObservation): Promise<void> {
    await this.db.q(
      'INSERT INTO observed_prices (provider, tool, price_key, credits, observed_at) VALUES ($1, $2, $3, $4, $5)',
      [o.provider, o.tool, o.priceKey, o.credits, o.observedAt],
    );
  }

  async observedPrice(tool: string, priceKey: string): Promise<ObservedPrice | undefined> {
    const { text, values } = named(OBSERVED_SUMMARY_PG, { tool, key: priceKey });
    return rowToObserved((await this.db.q<SummaryRow>(text, values)).rows[0]);
  }

  async listObservations(): Promise<PriceObservation[]> {
    const { rows } = await this.db.q<ObservationRow>(
      'SELECT provider, tool, price_key, credits, observed_at FROM observed_prices ORDER BY observed_at, id',
    );
    return rows.map(rowToObservation);
  }

  async otherActivity(q: ActivityQuery): Promise<boolean> {
    const { text, values } = named(OTHER_ACTIVITY_SQL, activityParams(q));
    return (await this.db.q<{ busy: number }>(text, values)).rows[0]?.busy === 1;
  }

  // ---- maintenance ----

  async purge(q: { tokensBefore: number; keysBefore: number }): Promise<PurgeCounts> {
    const approvals = named(PURGE_APPROVALS_SQL, { before: q.tokensBefore });
    return this.db.tx(async (c) => ({
      tokens: (await c.query('DELETE FROM consent_tokens WHERE expires_at < $1', [q.tokensBefore])).rowCount ?? 0,
      keys:
        (await c.query(`DELETE FROM idempotency_keys WHERE created_at < $1 AND ${SETTLED_KEY_SQL}`, [q.keysBefore]))
          .rowCount ?? 0,
      approvals: (await c.query(approvals.text, approvals.values)).rowCount ?? 0,
    }));
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
