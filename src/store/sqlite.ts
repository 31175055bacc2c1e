/**
 * The embedded Store: one SQLite file (WAL) shared safely by several server processes.
 * The driver (sqlite-driver.ts) is synchronous; every method that reads then writes runs in one BEGIN IMMEDIATE
 * transaction (the write lock is taken first, waiting up to busy_timeout), so no two processes can
 * both see the same spend and both reserve on it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase, type DriverName, type SqlDatabase, type SqlStatement } from './sqlite-driver.js';
import { clampLimit, encodeCursor, listJobsSql, purgeSqlite, updateJobSql } from './sqlite-jobs.js';
import { SqliteWorkerSql } from './sqlite-worker.js';
import {
  configure,
  jobToRow,
  migrate,
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
  OBSERVED_SUMMARY_SQLITE,
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
import { REFUNDED_SINCE_SQL } from './worker-sql.js';
import { SqliteApprovals } from './sqlite-approvals.js';
import {
  REFUNDS_BY_PROVIDER_SQL,
  REFUNDS_SQL,
  refundsLimit,
  rowToDaySpend,
  SPEND_BY_DAY_SQL,
  type DaySpendRow,
} from './spend-sql.js';
import { BY_PROVIDER_JOB_SQL, CAP_EPSILON, COUNTING_SQL, newReservation, roundCredits } from './store.js';

const EPSILON = CAP_EPSILON;
const credits = roundCredits;
const COUNTING = COUNTING_SQL;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, SqlStatement>();
  private readonly worker: SqliteWorkerSql;
  private readonly approvals: SqliteApprovals;

  private constructor(private readonly db: SqlDatabase) {
    this.worker = new SqliteWorkerSql(db, (sql) => this.stmt(sql));
    this.approvals = new SqliteApprovals((sql) => this.stmt(sql));
  }

  /** Which SQLite driver serves this store (for --version --verbose and the start-up log). */
  get driver(): DriverName {
    return this.db.driver;
  }

  /** Opens (creating if needed, parent folder 0700) and migrates the database file. */
  static open(file: string, driver?: DriverName): SqliteStore {
    let db: SqlDatabase | undefined;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      db = openDatabase(file, { driver });
      configure(db); // busy_timeout 5000, WAL, synchronous NORMAL, foreign_keys ON
      migrate(db);
      return new SqliteStore(db);
    } catch (err) {
      db?.close();
      const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
      throw new Error(`cannot open the SQLite store ${file}: ${reason}`, { cause: err });
    }
  }

  /** Prepared statements, cached by their SQL text. */
  private stmt<R = unknown>(sql: string): SqlStatement<R> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s as SqlStatement<R>;
  }

  // ---- jobs ----

  async insertJob(job: JobRecord): Promise<void> {
    this.stmt(
      `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal, status,
         provider_status, progress, outputs, error, polls, created_at, updated_at, finished_at, next_poll_at,
         poll_errors, webhook_hash, byok)
       VALUES (@id, @provider, @tool, @provider_job_id, @args_hash, @args, @price, @caller_id, @principal, @status,
         @provider_status, @progress, @outputs, @error, @polls, @created_at, @updated_at, @finished_at,
         @next_poll_at, @poll_errors, @webhook_hash, @byok)`,
    ).run(jobToRow(job));
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = this.stmt<JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
    return row === undefined ? undefined : rowToJob(row);
  }

  async jobByProviderId(provider: string, providerJobId: string): Promise<JobRecord | undefined> {
    const row = this.stmt<JobRow>(BY_PROVIDER_JOB_SQL).get({ provider, providerJobId });
    return row === undefined ? undefined : rowToJob(row);
  }

  async updateJob(id: string, patch: JobPatch, now: number, opts?: UpdateOptions): Promise<JobRecord | undefined> {
    const { sql, params } = updateJobSql(id, patch, now, opts);
    return this.db.immediate(() => {
      if (this.stmt(sql).run(params).changes === 0) return undefined;
      const row = this.stmt<JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
      return row === undefined ? undefined : rowToJob(row);
    });
  }

  async listJobs(q: JobQuery): Promise<JobPage> {
    const limit = clampLimit(q.limit);
    const { sql, params } = listJobsSql(q);
    const rows = this.stmt<JobRow>(sql).all(params);
    const jobs = rows.slice(0, limit).map(rowToJob);
    const last = jobs[jobs.length - 1];
    return rows.length > limit && last !== undefined ? { jobs, nextCursor: encodeCursor(last) } : { jobs };
  }

  // ---- background worker (sqlite-worker.ts) ----

  async leaseDueJobs(q: LeaseQuery): Promise<JobRecord[]> {
    return this.worker.leaseDueJobs(q);
  }

  async releaseLease(id: string, owner: string, next: { nextPollAt: number | null; errors: number }): Promise<boolean> {
    return this.worker.releaseLease(id, owner, next);
  }

  async renewLease(id: string, owner: string, until: number): Promise<boolean> {
    return this.worker.renewLease(id, owner, until);
  }

  async nextDueAt(
    providers?: readonly string[],
    principals?: readonly string[],
    exclude?: readonly string[],
  ): Promise<number | undefined> {
    return this.worker.nextDueAt(providers, principals, exclude);
  }

  async pokeJob(id: string, now: number): Promise<boolean> {
    return this.worker.pokeJob(id, now);
  }

  async takeWebhook(capabilityHash: string, now: number): Promise<JobRecord | undefined> {
    return this.worker.takeWebhook(capabilityHash, now);
  }

  async takeRateSlot(q: RateSlotQuery): Promise<number> {
    return this.worker.takeRateSlot(q);
  }

  async toolOutcomes(q: { since: number; principal?: string }): Promise<ToolOutcome[]> {
    return this.worker.toolOutcomes(q);
  }

  async openJobCounts(): Promise<Record<string, number>> {
    return this.worker.openJobCounts();
  }

  async uncertainReservations(q: UncertainQuery): Promise<Reservation[]> {
    return this.worker.uncertainReservations(q);
  }

  async refundedSince(q: { principal: string; since: number }): Promise<{ count: number; credits: number }> {
    const row = this.stmt<{ n: number; credits: number }>(REFUNDED_SINCE_SQL).get(q);
    return { count: Number(row?.n ?? 0), credits: credits(Number(row?.credits ?? 0)) };
  }

  async spendByDay(q: DaySpendQuery): Promise<DaySpend[]> {
    const { principal, fromDay, olderThan } = q;
    return this.stmt<DaySpendRow>(SPEND_BY_DAY_SQL).all({ principal, fromDay, olderThan }).map(rowToDaySpend);
  }

  async refundsByProvider(q: { principal: string; since: number }): Promise<ProviderRefunds[]> {
    return this.stmt<{ provider: string; n: number; credits: number }>(REFUNDS_BY_PROVIDER_SQL)
      .all(q)
      .map((r) => ({ provider: r.provider, count: Number(r.n), credits: credits(Number(r.credits)) }));
  }

  async refundsSince(q: RefundQuery): Promise<Reservation[]> {
    const params = { principal: q.principal, since: q.since, limit: refundsLimit(q.limit) };
    return this.stmt<ReservationRow>(REFUNDS_SQL).all(params).map(rowToReservation);
  }

  // ---- spend ----

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    if (!Number.isFinite(r.credits) || r.credits < 0) {
      throw new Error(`reserve: credits must be a finite number >= 0, got ${r.credits}`);
    }
    const sessionUsed = this.stmt<{ used: number }>(
      `SELECT total(credits) AS used FROM reservations
       WHERE provider = ? AND caller_id = ? AND state IN ${COUNTING}`,
    );
    const dayUsed = this.stmt<{ used: number }>(
      `SELECT total(credits) AS used FROM reservations
       WHERE provider = ? AND principal = ? AND day = ? AND state IN ${COUNTING}`,
    );
    const insert = this.stmt(
      `INSERT INTO reservations (id, provider, tool, caller_id, principal, day, credits, args_hash, state, job_id,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'reserved', NULL, ?, ?)`,
    );
    return this.db.immediate((): ReserveResult => {
      if (r.sessionCap !== undefined) {
        const used = sessionUsed.get(r.provider, r.callerId)!.used;
        if (used + r.credits > r.sessionCap + EPSILON) {
          return { ok: false, scope: 'session', cap: r.sessionCap, used: credits(used) };
        }
      }
      if (r.dayCap !== undefined) {
        const used = dayUsed.get(r.provider, r.principal, r.day)!.used;
        if (used + r.credits > r.dayCap + EPSILON) {
          return { ok: false, scope: 'day', cap: r.dayCap, used: credits(used) };
        }
      }
      insert.run(r.id, r.provider, r.tool, r.callerId, r.principal, r.day, r.credits, r.argsHash, r.now, r.now);
      return { ok: true, reservation: newReservation(r) };
    });
  }

  async commit(id: string, jobId: string, now: number, credits?: number): Promise<void> {
    if (credits !== undefined && !(Number.isFinite(credits) && credits >= 0))
      throw new RangeError(`credits must be a finite number >= 0, got ${credits}`);
    this.stmt(
      `UPDATE reservations SET state = 'committed', job_id = ?, updated_at = ?, credits = COALESCE(?, credits)
       WHERE id = ? AND state IN ('reserved', 'uncertain')`,
    ).run(jobId, now, credits ?? null, id);
  }

  async release(id: string, now: number): Promise<void> {
    this.stmt(
      `UPDATE reservations SET state = 'released', updated_at = ?
       WHERE id = ? AND state IN ('reserved', 'uncertain')`,
    ).run(now, id);
  }

  async refund(id: string, now: number): Promise<void> {
    this.stmt(
      `UPDATE reservations SET state = 'refunded', updated_at = ?
       WHERE (id = ? OR job_id = ?) AND state IN ('committed', 'uncertain')`,
    ).run(now, id, id);
  }

  async markUncertain(id: string, now: number): Promise<void> {
    this.stmt(`UPDATE reservations SET state = 'uncertain', updated_at = ? WHERE id = ? AND state = 'reserved'`).run(
      now,
      id,
    );
  }

  async spendTotals(q: SpendQuery): Promise<SpendTotals[]> {
    // A 'reserved' row older than olderThan is reported as uncertain (its call probably died mid-flight).
    const stale = `(state = 'reserved' AND @olderThan IS NOT NULL AND created_at < @olderThan)`;
    const rows = this.stmt<SpendTotals>(
      `SELECT provider,
         total(CASE WHEN state = 'committed' THEN credits END) AS committed,
         total(CASE WHEN state = 'reserved' AND NOT ${stale} THEN credits END) AS reserved,
         total(CASE WHEN state = 'uncertain' OR ${stale} THEN credits END) AS uncertain,
         total(CASE WHEN state = 'refunded' THEN credits END) AS refunded,
         total(CASE WHEN state = 'released' THEN credits END) AS released
       FROM reservations
       WHERE (@callerId IS NULL OR caller_id = @callerId) AND (@principal IS NULL OR principal = @principal)
         AND (@day IS NULL OR day = @day)
       GROUP BY provider ORDER BY provider`,
    ).all({
      callerId: q.callerId ?? null,
      principal: q.principal ?? null,
      day: q.day ?? null,
      olderThan: q.olderThan ?? null,
    });
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
    return this.stmt<ReservationRow>(
      `SELECT * FROM reservations WHERE (@principal IS NULL OR principal = @principal)
       ORDER BY created_at DESC, id DESC LIMIT @n`,
    )
      .all({ n, principal: principal ?? null })
      .map(rowToReservation);
  }

  async getReservation(id: string): Promise<Reservation | undefined> {
    const row = this.stmt<ReservationRow>('SELECT * FROM reservations WHERE id = ?').get(id);
    return row ? rowToReservation(row) : undefined;
  }

  async reservationOfJob(jobId: string): Promise<Reservation | undefined> {
    const row = this.stmt<ReservationRow>(
      'SELECT * FROM reservations WHERE job_id = ? ORDER BY created_at LIMIT 1',
    ).get(jobId);
    return row ? rowToReservation(row) : undefined;
  }

  // ---- consent tokens ----

  async putToken(t: ConsentToken): Promise<void> {
    this.stmt(
      `INSERT INTO consent_tokens (token_hash, tool, args_hash, caller_id, expires_at, created_at, used_at)
       VALUES (@token_hash, @tool, @args_hash, @caller_id, @expires_at, @created_at, @used_at)`,
    ).run(tokenToRow(t));
  }

  async consumeToken(
    tokenHash: string,
    tool: string,
    argsHash: string,
    callerId: string,
    now: number,
  ): Promise<ConsumeResult> {
    return this.db.immediate((): ConsumeResult => {
      const t = this.stmt<TokenRow>('SELECT * FROM consent_tokens WHERE token_hash = ?').get(tokenHash);
      // Another caller's token answers exactly like one that does not exist.
      if (t === undefined || t.caller_id !== callerId) return 'unknown';
      if (t.used_at !== null) return 'used';
      if (now >= t.expires_at) return 'expired';
      if (t.tool !== tool || t.args_hash !== argsHash) return 'mismatch';
      this.stmt('UPDATE consent_tokens SET used_at = ? WHERE token_hash = ?').run(now, tokenHash);
      return 'ok';
    });
  }

  async returnToken(tokenHash: string, usedAt: number): Promise<void> {
    this.stmt('UPDATE consent_tokens SET used_at = NULL WHERE token_hash = ? AND used_at = ?').run(tokenHash, usedAt);
  }

  // ---- idempotency keys ----

  async claimIdempotency(key: string, tool: string, argsHash: string, now: number): Promise<ClaimResult> {
    return this.db.immediate((): ClaimResult => {
      const inserted = this.stmt(
        `INSERT INTO idempotency_keys (key, tool, args_hash, job_id, created_at) VALUES (?, ?, ?, NULL, ?)
           ON CONFLICT (key) DO NOTHING`,
      ).run(key, tool, argsHash, now);
      if (inserted.changes === 1) return { state: 'new' };
      const row = this.stmt<IdempotencyRow>('SELECT * FROM idempotency_keys WHERE key = ?').get(key)!;
      const record = rowToIdempotency(row);
      return row.tool === tool && row.args_hash === argsHash
        ? { state: 'existing', record }
        : { state: 'conflict', record };
    });
  }

  async settleIdempotency(key: string, jobId: string): Promise<void> {
    this.stmt(`UPDATE idempotency_keys SET job_id = ?, outcome = 'job' WHERE key = ?`).run(jobId, key);
  }

  async settleIdempotencyByReservation(reservationId: string, jobId: string): Promise<number> {
    return Number(
      this.stmt(
        `UPDATE idempotency_keys SET job_id = ?, outcome = 'job' WHERE reservation_id = ? AND outcome <> 'job'`,
      ).run(jobId, reservationId).changes,
    );
  }

  async bindIdempotencyReservation(key: string, reservationId: string): Promise<void> {
    this.stmt(
      `UPDATE idempotency_keys SET reservation_id = ? WHERE key = ? AND outcome = 'pending' AND job_id IS NULL`,
    ).run(reservationId, key);
  }

  async markIdempotencyUnknown(key: string, reservationId: string): Promise<void> {
    this.stmt(
      `UPDATE idempotency_keys SET outcome = 'unknown', reservation_id = ? WHERE key = ? AND outcome = 'pending'`,
    ).run(reservationId, key);
  }

  async dropIdempotency(key: string): Promise<void> {
    this.stmt('DELETE FROM idempotency_keys WHERE key = ?').run(key);
  }

  // ---- observed prices ----

  async recordObservation(o: PriceObservation): Promise<void> {
    this.stmt(
      'INSERT INTO observed_prices (provider, tool, price_key, credits, observed_at) VALUES (?, ?, ?, ?, ?)',
    ).run(o.provider, o.tool, o.priceKey, o.credits, o.observedAt);
  }

  async observedPrice(tool: string, priceKey: string): Promise<ObservedPrice | undefined> {
    return rowToObserved(this.stmt<SummaryRow>(OBSERVED_SUMMARY_SQLITE).get({ tool, key: priceKey }));
  }

  async listObservations(): Promise<PriceObservation[]> {
    return this.stmt<ObservationRow>(
      'SELECT provider, tool, price_key, credits, observed_at FROM observed_prices ORDER BY observed_at, id',
    )
      .all()
      .map(rowToObservation);
  }

  async otherActivity(q: ActivityQuery): Promise<boolean> {
    return this.stmt<{ busy: number }>(OTHER_ACTIVITY_SQL).get(activityParams(q))?.busy === 1;
  }

  // ---- maintenance ----

  // ---- pending approvals (sqlite-approvals.ts) ----

  async putApproval(a: PendingApproval): Promise<void> {
    this.approvals.put(a);
  }

  async takeApproval(idHash: string, principal: string, now: number): Promise<TakeApprovalResult> {
    return this.approvals.take(idHash, principal, now);
  }

  async declineApproval(idHash: string, principal: string, now: number): Promise<DeclineApprovalResult> {
    return this.approvals.decline(idHash, principal, now);
  }

  async returnApproval(idHash: string, usedAt: number): Promise<void> {
    this.approvals.giveBack(idHash, usedAt);
  }

  async useApprovalToken(tokenHash: string, now: number): Promise<void> {
    this.approvals.useToken(tokenHash, now);
  }

  async returnApprovalToken(tokenHash: string, usedAt: number): Promise<void> {
    this.approvals.returnToken(tokenHash, usedAt);
  }

  async bindApprovalReservation(by: { idHash?: string; tokenHash?: string }, reservation: string): Promise<void> {
    this.approvals.bind(by, reservation);
  }

  async supersedeApprovals(q: {
    tool: string;
    argsHash: string;
    principal: string;
    callerId: string;
    now: number;
  }): Promise<number> {
    return this.approvals.supersede(q);
  }

  async purge(q: { tokensBefore: number; keysBefore: number }): Promise<PurgeCounts> {
    return purgeSqlite(this.db, q);
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
