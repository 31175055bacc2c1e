/**
 * Schema and SQL of the background worker's part of both stores (SQLite migration 6, PostgreSQL migration 4):
 * leases on job rows, webhook capabilities, shared rate-limit windows, and the reports built on them.
 *
 * next_poll_at defaults to 0 (due at once): a row written by an older binary that knows no worker (a
 * rolling deploy, a stale process on the same file) is still polled; this code always writes it.
 *
 * Lease states of a job row (next_poll_at, lease_owner, lease_until):
 * - next_poll_at NULL: nothing to do (final with nothing to keep, or given up); never leased.
 * - free and due: next_poll_at <= now, lease_owner NULL (or its lease_until <= now: a dead owner's lease).
 * - leased: lease_owner set, lease_until > now. Taking a lease sets next_poll_at = lease_until, so a job
 *   whose owner dies falls due exactly when its lease runs out, and a poke during the lease (a webhook
 *   hint) is seen as next_poll_at < lease_until, which releaseLease keeps instead of its own schedule.
 */
/** Final statuses as an SQL list (both stores). */
export const FINAL_SQL = "('succeeded', 'failed', 'cancelled')";

const COMMON_INDEXES = `
  UPDATE jobs SET next_poll_at = CASE WHEN status IN ${FINAL_SQL} THEN NULL ELSE created_at END;
  CREATE INDEX jobs_due ON jobs (next_poll_at, id) WHERE next_poll_at IS NOT NULL;
  CREATE INDEX jobs_leased ON jobs (lease_until) WHERE lease_owner IS NOT NULL;
  CREATE UNIQUE INDEX jobs_by_webhook ON jobs (webhook_hash) WHERE webhook_hash IS NOT NULL;
  CREATE INDEX reservations_uncertain ON reservations (created_at, id) WHERE state = 'uncertain';
  CREATE INDEX rate_slots_by_bucket ON rate_slots (bucket, at);
`;

/**
 * SQLite migration 6: jobs gain the worker's columns; open jobs are due at once, final ones have nothing
 * to do; rate_slots holds the starts of each shared rate-limit window.
 */
export const SQLITE_WORKER_MIGRATION = `
  ALTER TABLE jobs ADD COLUMN next_poll_at INTEGER DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
  ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
  ALTER TABLE jobs ADD COLUMN poll_errors INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN webhook_hash TEXT;
  CREATE TABLE rate_slots (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket  TEXT NOT NULL,
    at      INTEGER NOT NULL
  );
  ${COMMON_INDEXES}
`;

/** PostgreSQL migration 4 (SQLite's 6). */
export const PG_WORKER_MIGRATION = `
  ALTER TABLE jobs ADD COLUMN next_poll_at BIGINT DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
  ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
  ALTER TABLE jobs ADD COLUMN poll_errors INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN webhook_hash TEXT;
  CREATE TABLE rate_slots (
    id      BIGSERIAL PRIMARY KEY,
    bucket  TEXT NOT NULL,
    at      BIGINT NOT NULL
  );
  ${COMMON_INDEXES}
`;

/** `provider IN (@p0, @p1, …)` and its parameters; '' when unfiltered. */
export function providerFilter(providers?: readonly string[]): { sql: string; params: Record<string, string> } {
  if (providers === undefined) return { sql: '', params: {} };
  const params: Record<string, string> = {};
  providers.forEach((p, i) => (params[`p${i}`] = p));
  return { sql: ` AND provider IN (${providers.map((_, i) => `@p${i}`).join(', ')})`, params };
}

/**
 * The provider filter, `principal IN (@q0, …)` and `id NOT IN (@x0, …)` together (see providerFilter);
 * `empty` when the provider or principal list is empty (nothing can match).
 */
export function jobFilter(
  providers?: readonly string[],
  principals?: readonly string[],
  exclude?: readonly string[],
): { sql: string; params: Record<string, string>; empty: boolean } {
  const byProvider = providerFilter(providers);
  const params: Record<string, string> = { ...byProvider.params };
  let sql = byProvider.sql;
  if (principals !== undefined) {
    principals.forEach((p, i) => (params[`q${i}`] = p));
    sql += ` AND principal IN (${principals.map((_, i) => `@q${i}`).join(', ')})`;
  }
  if (exclude !== undefined && exclude.length > 0) {
    exclude.forEach((id, i) => (params[`x${i}`] = id));
    sql += ` AND id NOT IN (${exclude.map((_, i) => `@x${i}`).join(', ')})`;
  }
  return { sql, params, empty: providers?.length === 0 || principals?.length === 0 };
}

/**
 * Extend a lease its owner holds; next_poll_at follows the lease's end unless the job was poked (or given
 * a time) during the lease.
 */
export const RENEW_SQL = `UPDATE jobs SET
    next_poll_at = CASE WHEN next_poll_at = lease_until THEN CAST(@until AS BIGINT) ELSE next_poll_at END,
    lease_until = CAST(@until AS BIGINT)
  WHERE id = @id AND lease_owner = @owner`;

/** The due, leasable jobs, soonest first (`@now`, `@limit`, then the provider filter). */
export function dueSql(filter: string, dialect: 'sqlite' | 'pg' = 'pg'): string {
  // SQLite's planner would pick the provider (or principal) index for a filtered lease and sort every open
  // job of that provider (about 10 ms a lease at 10,000 open jobs, against 0.4 ms walking jobs_due in order).
  const jobs = dialect === 'sqlite' ? 'jobs INDEXED BY jobs_due' : 'jobs';
  return `SELECT * FROM ${jobs} WHERE next_poll_at IS NOT NULL AND next_poll_at <= @now
    AND (lease_owner IS NULL OR lease_until <= @now)${filter}
    ORDER BY next_poll_at, id LIMIT @limit`;
}

/**
 * Give back a lease: next_poll_at becomes the owner's schedule, unless the job was poked during the lease
 * (next_poll_at < lease_until), which keeps the earlier of the two; a null schedule always wins.
 */
export const RELEASE_SQL = `UPDATE jobs SET
    next_poll_at = CASE WHEN CAST(@next AS BIGINT) IS NULL THEN NULL
      WHEN next_poll_at < lease_until AND next_poll_at < CAST(@next AS BIGINT) THEN next_poll_at
      ELSE CAST(@next AS BIGINT) END,
    poll_errors = @errors, lease_owner = NULL, lease_until = NULL
  WHERE id = @id AND lease_owner = @owner`;

/**
 * The earliest time a job becomes leasable: a free job at next_poll_at, a leased one not before its lease
 * runs out. Each half walks its own partial index (SQLite is told which: its planner would scan jobs_due).
 */
export function nextDueSql(filter: string, dialect: 'sqlite' | 'pg'): string {
  const [greatest, leased] = dialect === 'sqlite' ? ['MAX', 'jobs INDEXED BY jobs_leased'] : ['GREATEST', 'jobs'];
  return `SELECT MIN(t) AS t FROM (
      SELECT MIN(next_poll_at) AS t FROM jobs WHERE next_poll_at IS NOT NULL AND lease_owner IS NULL${filter}
      UNION ALL
      SELECT MIN(${greatest}(next_poll_at, lease_until)) AS t FROM ${leased}
        WHERE lease_owner IS NOT NULL AND next_poll_at IS NOT NULL${filter}
    ) due`;
}

export const POKE_SQL = `UPDATE jobs SET next_poll_at = @now
  WHERE id = @id AND status NOT IN ${FINAL_SQL}`;

/** Use a webhook capability: clear it and make the job due now, in one statement (a hint is never half-taken). */
export const TAKE_WEBHOOK_SQL = `UPDATE jobs SET webhook_hash = NULL, next_poll_at = @now
  WHERE webhook_hash = @hash AND status NOT IN ${FINAL_SQL} RETURNING *`;

/** Open jobs by status (see Store.openJobCounts). */
export const OPEN_JOB_COUNTS_SQL = `SELECT status, COUNT(*) AS n FROM jobs WHERE status NOT IN ${FINAL_SQL} GROUP BY status`;

/** Rows of OPEN_JOB_COUNTS_SQL as status -> count. */
export function jobCounts(rows: readonly { status: string; n: number | string }[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Jobs per tool since `@since`, and the failed ones; of `@principal` when `byPrincipal` (its own index). */
export function toolOutcomesSql(byPrincipal: boolean): string {
  return `SELECT tool, COUNT(*) AS total, COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed
    FROM jobs WHERE created_at >= @since${byPrincipal ? ' AND principal = @principal' : ''}
    GROUP BY tool ORDER BY tool`;
}

/**
 * Reservations whose outcome is unknown, oldest first: uncertain ones, and reserved ones created before
 * `@olderThan` (a call that died mid-flight; reports count them as uncertain); of `@principal` when
 * `byPrincipal`; at most `@limit`.
 */
export function uncertainSql(byPrincipal: boolean): string {
  return `SELECT * FROM reservations WHERE (state = 'uncertain' OR (state = 'reserved' AND created_at < @olderThan))
    ${byPrincipal ? ' AND principal = @principal' : ''}
    ORDER BY created_at, id LIMIT @limit`;
}

/** Reservations of `@principal` refunded at or after `@since`: how many, and their credits. */
export const REFUNDED_SINCE_SQL = `SELECT COUNT(*) AS n, COALESCE(SUM(credits), 0) AS credits FROM reservations
  WHERE principal = @principal AND state = 'refunded' AND updated_at >= @since`;

/** The most uncertain reservations uncertainReservations answers. */
export const UNCERTAIN_LIMIT = 100;

/** Rate window: the live starts of a bucket, oldest first. */
export const LIVE_SLOTS_SQL = 'SELECT at FROM rate_slots WHERE bucket = @bucket AND at > @from ORDER BY at, id';

/**
 * The answer of a full window: ms until enough starts leave it that one more fits (the start at index
 * count - limit leaving), at least 1.
 */
export function rateWait(live: readonly number[], limit: number, windowMs: number, now: number): number {
  const leaving = live[Math.max(0, live.length - Math.max(1, limit))];
  return leaving === undefined ? Math.max(1, windowMs) : Math.max(1, leaving + windowMs - now);
}

export interface OutcomeRow {
  tool: string;
  total: number | string;
  failed: number | string;
}

export function rowToOutcome(r: OutcomeRow): { tool: string; total: number; failed: number } {
  return { tool: r.tool, total: Number(r.total), failed: Number(r.failed) };
}

/**
 * SQLite migration 8, PostgreSQL 6: a job created with a per-request provider key (--byok) is marked, so
 * the worker leaves it alone while it is open (it has no key to poll it with); the key is never stored.
 */
export const BYOK_MIGRATION = `
  ALTER TABLE jobs ADD COLUMN byok INTEGER NOT NULL DEFAULT 0;
`;
