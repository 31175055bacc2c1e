/**
 * The embedded Store: one SQLite file (WAL) shared safely by several server processes.
 * better-sqlite3 is synchronous; every method that reads then writes runs in one BEGIN IMMEDIATE
 * transaction (the write lock is taken first, waiting up to busy_timeout), so no two processes can
 * both see the same spend and both reserve on it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { clampLimit, encodeCursor, listJobsSql, updateJobSql } from './sqlite-jobs.js';
import {
  configure,
  jobToRow,
  migrate,
  rowToIdempotency,
  rowToJob,
  rowToReservation,
  tokenToRow,
  type IdempotencyRow,
  type JobRow,
  type ReservationRow,
  type TokenRow,
} from './sqlite-schema.js';
import type {
  ClaimResult,
  ConsentToken,
  ConsumeResult,
  JobPage,
  JobPatch,
  JobQuery,
  JobRecord,
  ReserveRequest,
  ReserveResult,
  Reservation,
  SpendTotals,
  Store,
} from './store.js';

/** Tolerance for fractional credits: 10 × 0.1 must fit a cap of 1. */
const EPSILON = 1e-9;

/** Sums of floats drift (0.1 + 0.2); report them rounded to 12 significant digits. */
function credits(x: number): number {
  return Number(x.toPrecision(12));
}

/** States whose credits count against a cap. */
const COUNTING = "('reserved', 'committed', 'uncertain')";

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating if needed, parent folder 0700) and migrates the database file. */
  static open(file: string): SqliteStore {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const db = new Database(file);
    try {
      configure(db); // busy_timeout 5000, WAL, synchronous NORMAL, foreign_keys ON
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db);
  }

  /** Prepared statements, cached by their SQL text. */
  private stmt<R = unknown>(sql: string): Database.Statement<unknown[], R> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s as Database.Statement<unknown[], R>;
  }

  // ---- jobs ----

  async insertJob(job: JobRecord): Promise<void> {
    this.stmt(
      `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, status,
         provider_status, progress, outputs, error, polls, created_at, updated_at, finished_at)
       VALUES (@id, @provider, @tool, @provider_job_id, @args_hash, @args, @price, @caller_id, @status,
         @provider_status, @progress, @outputs, @error, @polls, @created_at, @updated_at, @finished_at)`,
    ).run(jobToRow(job));
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = this.stmt<JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
    return row === undefined ? undefined : rowToJob(row);
  }

  async updateJob(id: string, patch: JobPatch, now: number): Promise<JobRecord | undefined> {
    const { sql, params } = updateJobSql(id, patch, now);
    return this.db
      .transaction(() => {
        if (this.stmt(sql).run(params).changes === 0) return undefined;
        const row = this.stmt<JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
        return row === undefined ? undefined : rowToJob(row);
      })
      .immediate();
  }

  async listJobs(q: JobQuery): Promise<JobPage> {
    const limit = clampLimit(q.limit);
    const { sql, params } = listJobsSql(q);
    const rows = this.stmt<JobRow>(sql).all(params);
    const jobs = rows.slice(0, limit).map(rowToJob);
    const last = jobs[jobs.length - 1];
    return rows.length > limit && last !== undefined ? { jobs, nextCursor: encodeCursor(last) } : { jobs };
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
      `SELECT total(credits) AS used FROM reservations WHERE provider = ? AND day = ? AND state IN ${COUNTING}`,
    );
    const insert = this.stmt(
      `INSERT INTO reservations (id, provider, tool, caller_id, day, credits, args_hash, state, job_id,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'reserved', NULL, ?, ?)`,
    );
    return this.db
      .transaction((): ReserveResult => {
        if (r.sessionCap !== undefined) {
          const used = sessionUsed.get(r.provider, r.callerId)!.used;
          if (used + r.credits > r.sessionCap + EPSILON) {
            return { ok: false, scope: 'session', cap: r.sessionCap, used: credits(used) };
          }
        }
        if (r.dayCap !== undefined) {
          const used = dayUsed.get(r.provider, r.day)!.used;
          if (used + r.credits > r.dayCap + EPSILON) {
            return { ok: false, scope: 'day', cap: r.dayCap, used: credits(used) };
          }
        }
        insert.run(r.id, r.provider, r.tool, r.callerId, r.day, r.credits, r.argsHash, r.now, r.now);
        const reservation: Reservation = {
          id: r.id,
          provider: r.provider,
          tool: r.tool,
          callerId: r.callerId,
          day: r.day,
          credits: r.credits,
          argsHash: r.argsHash,
          state: 'reserved',
          jobId: null,
          createdAt: r.now,
          updatedAt: r.now,
        };
        return { ok: true, reservation };
      })
      .immediate();
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
       WHERE id = ? AND state IN ('committed', 'uncertain')`,
    ).run(now, id);
  }

  async markUncertain(id: string, now: number): Promise<void> {
    this.stmt(`UPDATE reservations SET state = 'uncertain', updated_at = ? WHERE id = ? AND state = 'reserved'`).run(
      now,
      id,
    );
  }

  async spendTotals(q: { callerId?: string; day?: string; olderThan?: number }): Promise<SpendTotals[]> {
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
       WHERE (@callerId IS NULL OR caller_id = @callerId) AND (@day IS NULL OR day = @day)
       GROUP BY provider ORDER BY provider`,
    ).all({ callerId: q.callerId ?? null, day: q.day ?? null, olderThan: q.olderThan ?? null });
    return rows.map((r) => ({
      provider: r.provider,
      committed: credits(r.committed),
      reserved: credits(r.reserved),
      uncertain: credits(r.uncertain),
      refunded: credits(r.refunded),
      released: credits(r.released),
    }));
  }

  async recentSpend(limit: number): Promise<Reservation[]> {
    const n = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
    return this.stmt<ReservationRow>('SELECT * FROM reservations ORDER BY created_at DESC, id DESC LIMIT ?')
      .all(n)
      .map(rowToReservation);
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
    return this.db
      .transaction((): ConsumeResult => {
        const t = this.stmt<TokenRow>('SELECT * FROM consent_tokens WHERE token_hash = ?').get(tokenHash);
        if (t === undefined) return 'unknown';
        if (t.used_at !== null) return 'used';
        if (now >= t.expires_at) return 'expired';
        if (t.tool !== tool || t.args_hash !== argsHash || t.caller_id !== callerId) return 'mismatch';
        this.stmt('UPDATE consent_tokens SET used_at = ? WHERE token_hash = ?').run(now, tokenHash);
        return 'ok';
      })
      .immediate();
  }

  // ---- idempotency keys ----

  async claimIdempotency(key: string, tool: string, argsHash: string, now: number): Promise<ClaimResult> {
    return this.db
      .transaction((): ClaimResult => {
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
      })
      .immediate();
  }

  async settleIdempotency(key: string, jobId: string): Promise<void> {
    this.stmt(`UPDATE idempotency_keys SET job_id = ?, outcome = 'job' WHERE key = ?`).run(jobId, key);
  }

  async markIdempotencyUnknown(key: string, reservationId: string): Promise<void> {
    this.stmt(
      `UPDATE idempotency_keys SET outcome = 'unknown', reservation_id = ? WHERE key = ? AND outcome = 'pending'`,
    ).run(reservationId, key);
  }

  async dropIdempotency(key: string): Promise<void> {
    this.stmt('DELETE FROM idempotency_keys WHERE key = ?').run(key);
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
