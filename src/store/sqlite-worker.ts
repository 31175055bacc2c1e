/**
 * The background worker's part of the SQLite store (see worker-sql.ts): leases, pokes, webhook capabilities,
 * shared rate-limit windows and the reports. Every read-then-write runs in one BEGIN IMMEDIATE transaction,
 * so two processes on one file never lease the same job or both take the last slot of a window.
 */
import type { SqlDatabase, SqlStatement } from './sqlite-driver.js';
import { rowToJob, rowToReservation, type JobRow, type ReservationRow } from './sqlite-schema.js';
import type { JobRecord, LeaseQuery, RateSlotQuery, Reservation, ToolOutcome, UncertainQuery } from './store.js';
import {
  dueSql,
  FINAL_SQL,
  jobFilter,
  LIVE_SLOTS_SQL,
  nextDueSql,
  POKE_SQL,
  rateWait,
  RELEASE_SQL,
  RENEW_SQL,
  UNCERTAIN_LIMIT,
  rowToOutcome,
  toolOutcomesSql,
  jobCounts,
  OPEN_JOB_COUNTS_SQL,
  uncertainSql,
  type OutcomeRow,
} from './worker-sql.js';

type Prepare = <R = unknown>(sql: string) => SqlStatement<R>;

export class SqliteWorkerSql {
  constructor(
    private readonly db: SqlDatabase,
    private readonly stmt: Prepare,
  ) {}

  leaseDueJobs(q: LeaseQuery): JobRecord[] {
    const limit = Math.floor(q.limit);
    const filter = jobFilter(q.providers, q.principals, q.exclude);
    if (!(limit > 0) || filter.empty) return [];
    const until = q.now + q.leaseMs;
    const take = this.stmt(
      `UPDATE jobs SET lease_owner = @owner, lease_until = @until, next_poll_at = @until WHERE id = @id`,
    );
    return this.db.immediate(() => {
      const rows = this.stmt<JobRow>(dueSql(filter.sql, 'sqlite')).all({ now: q.now, limit, ...filter.params });
      for (const row of rows) take.run({ owner: q.owner, until, id: row.id });
      return rows.map((row) => rowToJob({ ...row, next_poll_at: until }));
    });
  }

  releaseLease(id: string, owner: string, next: { nextPollAt: number | null; errors: number }): boolean {
    const params = { id, owner, next: next.nextPollAt, errors: next.errors };
    return this.stmt(RELEASE_SQL).run(params).changes === 1;
  }

  renewLease(id: string, owner: string, until: number): boolean {
    return this.stmt(RENEW_SQL).run({ id, owner, until }).changes === 1;
  }

  nextDueAt(
    providers?: readonly string[],
    principals?: readonly string[],
    exclude?: readonly string[],
  ): number | undefined {
    const filter = jobFilter(providers, principals, exclude);
    if (filter.empty) return undefined;
    const row = this.stmt<{ t: number | null }>(nextDueSql(filter.sql, 'sqlite')).get(filter.params);
    return row?.t ?? undefined;
  }

  pokeJob(id: string, now: number): boolean {
    return this.stmt(POKE_SQL).run({ id, now }).changes === 1;
  }

  takeWebhook(capabilityHash: string, now: number): JobRecord | undefined {
    return this.db.immediate(() => {
      const row = this.stmt<JobRow>(`SELECT * FROM jobs WHERE webhook_hash = ? AND status NOT IN ${FINAL_SQL}`).get(
        capabilityHash,
      );
      if (row === undefined) return undefined;
      this.stmt('UPDATE jobs SET webhook_hash = NULL, next_poll_at = ? WHERE id = ?').run(now, row.id);
      // The answer carries the hash it matched, for the caller's constant-time comparison.
      return rowToJob({ ...row, next_poll_at: now });
    });
  }

  takeRateSlot(q: RateSlotQuery): number {
    const from = q.now - q.windowMs;
    return this.db.immediate(() => {
      this.stmt('DELETE FROM rate_slots WHERE bucket = @bucket AND at <= @from').run({ bucket: q.bucket, from });
      const live = this.stmt<{ at: number }>(LIVE_SLOTS_SQL)
        .all({ bucket: q.bucket, from })
        .map((r) => r.at);
      if (live.length >= q.limit) return rateWait(live, q.limit, q.windowMs, q.now);
      this.stmt('INSERT INTO rate_slots (bucket, at) VALUES (?, ?)').run(q.bucket, q.now);
      return 0;
    });
  }

  toolOutcomes(q: { since: number; principal?: string }): ToolOutcome[] {
    const params = q.principal === undefined ? { since: q.since } : { since: q.since, principal: q.principal };
    return this.stmt<OutcomeRow>(toolOutcomesSql(q.principal !== undefined))
      .all(params)
      .map(rowToOutcome);
  }

  openJobCounts(): Record<string, number> {
    return jobCounts(this.stmt<{ status: string; n: number }>(OPEN_JOB_COUNTS_SQL).all());
  }

  uncertainReservations(q: UncertainQuery): Reservation[] {
    const params = { olderThan: q.olderThan, limit: q.limit ?? UNCERTAIN_LIMIT };
    return this.stmt<ReservationRow>(uncertainSql(q.principal !== undefined))
      .all(q.principal === undefined ? params : { ...params, principal: q.principal })
      .map(rowToReservation);
  }
}
