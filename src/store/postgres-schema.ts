/**
 * PostgreSQL schema: ordered migrations applied at start inside one transaction under an advisory lock
 * (two replicas starting at once never both migrate), a schema version table, and the SQL helpers the
 * store shares with SQLite (named parameters -> $n).
 */
import type pg from 'pg';
import { PG_APPROVALS_MIGRATION } from './approvals-sql.js';
import { BYOK_MIGRATION, PG_WORKER_MIGRATION } from './worker-sql.js';

/** Migration N (1-based) is `PG_MIGRATIONS[N - 1]`. Append only. Times are ms since the epoch (BIGINT). */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    tool            TEXT NOT NULL,
    provider_job_id TEXT NOT NULL,
    args_hash       TEXT NOT NULL,
    args            TEXT NOT NULL,
    price           DOUBLE PRECISION,
    caller_id       TEXT NOT NULL,
    principal       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    provider_status TEXT,
    progress        DOUBLE PRECISION,
    outputs         TEXT NOT NULL,
    error           TEXT,
    polls           INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    finished_at     BIGINT
  );
  CREATE INDEX jobs_by_created ON jobs (created_at, id);
  CREATE INDEX jobs_by_principal ON jobs (principal, created_at, id);

  CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    tool        TEXT NOT NULL,
    caller_id   TEXT NOT NULL,
    principal   TEXT NOT NULL,
    day         TEXT NOT NULL,
    credits     DOUBLE PRECISION NOT NULL CHECK (credits >= 0),
    args_hash   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released', 'uncertain', 'refunded')),
    job_id      TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
  );
  CREATE INDEX reservations_by_caller ON reservations (provider, caller_id, state);
  CREATE INDEX reservations_by_principal_day ON reservations (provider, principal, day, state);
  CREATE INDEX reservations_by_created ON reservations (created_at, id);

  CREATE TABLE consent_tokens (
    token_hash  TEXT PRIMARY KEY,
    tool        TEXT NOT NULL,
    args_hash   TEXT NOT NULL,
    caller_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
  );
  CREATE INDEX consent_tokens_by_expiry ON consent_tokens (expires_at);

  CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    tool        TEXT NOT NULL,
    args_hash   TEXT NOT NULL,
    job_id      TEXT,
    created_at  BIGINT NOT NULL,
    outcome     TEXT NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'unknown', 'job')),
    reservation_id TEXT
  );
  CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
  `,
  // 2: observed prices of tools whose price is not published (balance before - after one job).
  `
  CREATE TABLE observed_prices (
    id          BIGSERIAL PRIMARY KEY,
    provider    TEXT NOT NULL,
    tool        TEXT NOT NULL,
    price_key   TEXT NOT NULL,
    credits     DOUBLE PRECISION NOT NULL CHECK (credits > 0),
    observed_at BIGINT NOT NULL
  );
  CREATE INDEX observed_prices_by_key ON observed_prices (tool, price_key, observed_at);
  `,
  // 3 (SQLite's 5): a provider job id is one job, of one principal: UNIQUE (provider, provider_job_id).
  // Rows duplicated before this rule are kept (the ledger is never deleted): the oldest stays as it is and
  // each later one names it in duplicate_of, outside the index.
  `
  ALTER TABLE jobs ADD COLUMN duplicate_of TEXT;
  CREATE INDEX jobs_by_provider_job_all ON jobs (provider, provider_job_id, created_at, id);
  UPDATE jobs j SET duplicate_of = (
      SELECT o.id FROM jobs o WHERE o.provider = j.provider AND o.provider_job_id = j.provider_job_id
      ORDER BY o.created_at, o.id LIMIT 1)
    WHERE EXISTS (
      SELECT 1 FROM jobs o WHERE o.provider = j.provider AND o.provider_job_id = j.provider_job_id
        AND (o.created_at < j.created_at OR (o.created_at = j.created_at AND o.id < j.id)));
  CREATE UNIQUE INDEX jobs_by_provider_job ON jobs (provider, provider_job_id) WHERE duplicate_of IS NULL;
  CREATE INDEX idempotency_keys_by_reservation ON idempotency_keys (reservation_id);
  CREATE INDEX reservations_by_job ON reservations (job_id);
  `,
  // 4 (SQLite's 6): the background worker (worker-sql.ts): job leases, next poll times, webhook
  // capabilities, rate windows.
  PG_WORKER_MIGRATION,
  // 5 (SQLite's 7): pending approvals a person clicks in an MCP App view (approvals-sql.ts).
  PG_APPROVALS_MIGRATION,
  // 6 (SQLite's 8): jobs created with a per-request provider key (--byok) are marked; never the key.
  BYOK_MIGRATION,
];

/** Advisory lock key held while migrating (any constant shared by every replica). */
const MIGRATION_LOCK = 0x6d656469; // "medi"

/** Applies the missing migrations in one transaction under a transaction-scoped advisory lock. */
export async function migratePg(client: pg.PoolClient, schema?: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > PG_MIGRATIONS.length)
      throw new Error(
        `database schema version ${newest} is newer than this mediagen-mcp supports (${PG_MIGRATIONS.length})`,
      );
    for (const [i, sql] of PG_MIGRATIONS.entries()) {
      if (applied.has(i + 1)) continue;
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** `@name` placeholders (shared with the SQLite SQL builders) -> `$n` and a values array. */
export function named(sql: string, params: Record<string, unknown>): { text: string; values: unknown[] } {
  const order: string[] = [];
  const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, values: order.map((n) => params[n]) };
}

const INT8 = 20;
const NUMERIC = 1700;

/** BIGINT times (ms) and sums come back as numbers, not strings. */
export function typeParser(base: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8 || oid === NUMERIC
        ? (v: string) => Number(v)
        : base.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
}
