/**
 * The background worker's part of the PostgreSQL store (see worker-sql.ts). Leases are one statement whose
 * row lock is FOR UPDATE SKIP LOCKED (replicas racing for due jobs each get different ones); a webhook
 * capability is used by one conditional UPDATE; a rate window is counted and taken in one transaction under
 * a transaction-scoped advisory lock on its bucket.
 */
import type { PgDb } from './postgres-db.js';
import { named } from './postgres-schema.js';
import { rowToJob, rowToReservation, type JobRow, type ReservationRow } from './sqlite-schema.js';
import type { JobRecord, LeaseQuery, RateSlotQuery, Reservation, ToolOutcome, UncertainQuery } from './store.js';
import {
  dueSql,
  jobFilter,
  LIVE_SLOTS_SQL,
  nextDueSql,
  POKE_SQL,
  rateWait,
  RELEASE_SQL,
  RENEW_SQL,
  TAKE_WEBHOOK_SQL,
  UNCERTAIN_LIMIT,
  rowToOutcome,
  toolOutcomesSql,
  jobCounts,
  OPEN_JOB_COUNTS_SQL,
  uncertainSql,
  type OutcomeRow,
} from './worker-sql.js';

/** Lock the due rows nobody else holds, lease them, answer them soonest due first. */
function leaseSql(filter: string): string {
  const due = dueSql(filter).replace(/^SELECT \*/, 'SELECT id, next_poll_at AS due_at');
  return `WITH due AS (${due} FOR UPDATE SKIP LOCKED),
    leased AS (
      UPDATE jobs j SET lease_owner = @owner, lease_until = @until, next_poll_at = @until
      FROM due WHERE j.id = due.id
      RETURNING j.*, due.due_at)
    SELECT * FROM leased ORDER BY due_at, id`;
}

export class PgWorkerSql {
  constructor(private readonly db: PgDb) {}

  async leaseDueJobs(q: LeaseQuery): Promise<JobRecord[]> {
    const limit = Math.floor(q.limit);
    const filter = jobFilter(q.providers, q.principals, q.exclude);
    if (!(limit > 0) || filter.empty) return [];
    const params = { now: q.now, limit, owner: q.owner, until: q.now + q.leaseMs, ...filter.params };
    const { text, values } = named(leaseSql(filter.sql), params);
    const { rows } = await this.db.q<JobRow>(text, values);
    return rows.map(rowToJob);
  }

  async releaseLease(id: string, owner: string, next: { nextPollAt: number | null; errors: number }): Promise<boolean> {
    const { text, values } = named(RELEASE_SQL, { id, owner, next: next.nextPollAt, errors: next.errors });
    return (await this.db.q(text, values)).rowCount === 1;
  }

  async renewLease(id: string, owner: string, until: number): Promise<boolean> {
    const { text, values } = named(RENEW_SQL, { id, owner, until });
    return (await this.db.q(text, values)).rowCount === 1;
  }

  async nextDueAt(
    providers?: readonly string[],
    principals?: readonly string[],
    exclude?: readonly string[],
  ): Promise<number | undefined> {
    const filter = jobFilter(providers, principals, exclude);
    if (filter.empty) return undefined;
    const { text, values } = named(nextDueSql(filter.sql, 'pg'), filter.params);
    const { rows } = await this.db.q<{ t: number | null }>(text, values);
    return rows[0]?.t ?? undefined;
  }

  async pokeJob(id: string, now: number): Promise<boolean> {
    const { text, values } = named(POKE_SQL, { id, now });
    return (await this.db.q(text, values)).rowCount === 1;
  }

  async takeWebhook(capabilityHash: string, now: number): Promise<JobRecord | undefined> {
    const { text, values } = named(TAKE_WEBHOOK_SQL, { hash: capabilityHash, now });
    const { rows } = await this.db.q<JobRow>(text, values);
    // RETURNING gives the new row (hash cleared); the answer carries the hash it matched.
    return rows[0] === undefined ? undefined : rowToJob({ ...rows[0], webhook_hash: capabilityHash });
  }

  async takeRateSlot(q: RateSlotQuery): Promise<number> {
    const from = q.now - q.windowMs;
    return this.db.tx(async (c) => {
      // Serialise the takes of one bucket across every replica until this transaction ends.
      // A take never waits long on a lock a stuck or partitioned replica holds: past it the take fails and
      // the limiter counts this process's own starts until the store answers again.
      await c.query("SET LOCAL lock_timeout = '2s'");
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended('mediagen:rate:' || $1, 0))", [q.bucket]);
      await c.query('DELETE FROM rate_slots WHERE bucket = $1 AND at <= $2', [q.bucket, from]);
      const live = named(LIVE_SLOTS_SQL, { bucket: q.bucket, from });
      const at = (await c.query<{ at: number }>(live.text, live.values)).rows.map((r) => r.at);
      if (at.length >= q.limit) return rateWait(at, q.limit, q.windowMs, q.now);
      await c.query('INSERT INTO rate_slots (bucket, at) VALUES ($1, $2)', [q.bucket, q.now]);
      return 0;
    });
  }

  async toolOutcomes(q: { since: number; principal?: string }): Promise<ToolOutcome[]> {
    const { text, values } = named(toolOutcomesSql(q.principal !== undefined), { ...q });
    return (await this.db.q<OutcomeRow>(text, values)).rows.map(rowToOutcome);
  }

  async openJobCounts(): Promise<Record<string, number>> {
    return jobCounts((await this.db.q<{ status: string; n: string }>(OPEN_JOB_COUNTS_SQL, [])).rows);
  }

  async uncertainReservations(q: UncertainQuery): Promise<Reservation[]> {
    const params = { olderThan: q.olderThan, limit: q.limit ?? UNCERTAIN_LIMIT, principal: q.principal };
    const { text, values } = named(uncertainSql(q.principal !== undefined), params);
    return (await this.db.q<ReservationRow>(text, values)).rows.map(rowToReservation);
  }
}
