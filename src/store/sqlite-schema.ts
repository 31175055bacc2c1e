/**
 * SQLite schema: ordered migrations, row shapes and row <-> record mapping. Applied by `SqliteStore.open`.
 */
import { isBusy, type SqlDatabase } from './sqlite-driver.js';
import { SQLITE_APPROVALS_MIGRATION } from './approvals-sql.js';
import { BYOK_MIGRATION, SQLITE_WORKER_MIGRATION } from './worker-sql.js';
import type {
  ConsentToken,
  IdempotencyRecord,
  JobOutput,
  JobRecord,
  JobStatus,
  PriceObservation,
  Reservation,
  ReservationState,
} from './store.js';

/**
 * Migration N (1-based) is `MIGRATIONS[N - 1]`. Append only: never edit or reorder a shipped entry.
 * Foreign keys are deliberately absent: a reservation may be committed with a job id before that job's
 * row is written, and an idempotency key may be settled before (or without) its job row.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    tool            TEXT NOT NULL,
    provider_job_id TEXT NOT NULL,
    args_hash       TEXT NOT NULL,
    args            TEXT NOT NULL,
    price           REAL,
    caller_id       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    provider_status TEXT,
    progress        REAL,
    outputs         TEXT NOT NULL,
    error           TEXT,
    polls           INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
  );
  CREATE INDEX jobs_by_created ON jobs (created_at, id);
  CREATE INDEX jobs_by_status ON jobs (status, created_at, id);
  CREATE INDEX jobs_by_provider ON jobs (provider, created_at, id);

  CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    tool        TEXT NOT NULL,
    caller_id   TEXT NOT NULL,
    day         TEXT NOT NULL,
    credits     REAL NOT NULL CHECK (credits >= 0),
    args_hash   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released', 'uncertain')),
    job_id      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE INDEX reservations_by_caller ON reservations (provider, caller_id, state);
  CREATE INDEX reservations_by_day ON reservations (provider, day, state);
  CREATE INDEX reservations_by_created ON reservations (created_at, id);

  CREATE TABLE consent_tokens (
    token_hash  TEXT PRIMARY KEY,
    tool        TEXT NOT NULL,
    args_hash   TEXT NOT NULL,
    caller_id   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER
  );

  CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    tool        TEXT NOT NULL,
    args_hash   TEXT NOT NULL,
    job_id      TEXT,
    created_at  INTEGER NOT NULL
  );
  `,
  // 2: reservations may end 'refunded' (the job failed after it was accepted); idempotency claims say
  // whether their call is still in flight ('pending'), ended with an unknown outcome, or made a job.
  `
  CREATE TABLE reservations_v2 (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    tool        TEXT NOT NULL,
    caller_id   TEXT NOT NULL,
    day         TEXT NOT NULL,
    credits     REAL NOT NULL CHECK (credits >= 0),
    args_hash   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released', 'uncertain', 'refunded')),
    job_id      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  INSERT INTO reservations_v2 SELECT id, provider, tool, caller_id, day, credits, args_hash, state, job_id,
    created_at, updated_at FROM reservations;
  DROP TABLE reservations;
  ALTER TABLE reservations_v2 RENAME TO reservations;
  CREATE INDEX reservations_by_caller ON reservations (provider, caller_id, state);
  CREATE INDEX reservations_by_day ON reservations (provider, day, state);
  CREATE INDEX reservations_by_created ON reservations (created_at, id);

  ALTER TABLE idempotency_keys ADD COLUMN outcome TEXT NOT NULL DEFAULT 'pending'
    CHECK (outcome IN ('pending', 'unknown', 'job'));
  ALTER TABLE idempotency_keys ADD COLUMN reservation_id TEXT;
  UPDATE idempotency_keys SET outcome = 'job' WHERE job_id IS NOT NULL;
  `,
  // 3: principals (DESIGN §8). Jobs and reservations carry their owner; rows from before were stdio's `local`.
  `
  ALTER TABLE jobs ADD COLUMN principal TEXT NOT NULL DEFAULT 'local';
  CREATE INDEX jobs_by_principal ON jobs (principal, created_at, id);
  ALTER TABLE reservations ADD COLUMN principal TEXT NOT NULL DEFAULT 'local';
  CREATE INDEX reservations_by_principal_day ON reservations (provider, principal, day, state);
  CREATE INDEX consent_tokens_by_expiry ON consent_tokens (expires_at);
  CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
  `,
  // 4: observed prices of tools whose price is not published (balance before - after one job).
  `
  CREATE TABLE observed_prices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider    TEXT NOT NULL,
    tool        TEXT NOT NULL,
    price_key   TEXT NOT NULL,
    credits     REAL NOT NULL CHECK (credits > 0),
    observed_at INTEGER NOT NULL
  );
  CREATE INDEX observed_prices_by_key ON observed_prices (tool, price_key, observed_at);
  `,
  // 5: a provider job id is one job, of one principal: UNIQUE (provider, provider_job_id). Rows duplicated
  // before this rule (a job adopted again, or by another principal) are kept, as the ledger is never
  // deleted: the oldest stays as it is and each later one names it in duplicate_of, outside the index.
  `
  ALTER TABLE jobs ADD COLUMN duplicate_of TEXT;
  CREATE INDEX jobs_by_provider_job_all ON jobs (provider, provider_job_id, created_at, id);
  UPDATE jobs SET duplicate_of = (
      SELECT o.id FROM jobs o WHERE o.provider = jobs.provider AND o.provider_job_id = jobs.provider_job_id
      ORDER BY o.created_at, o.id LIMIT 1)
    WHERE EXISTS (
      SELECT 1 FROM jobs o WHERE o.provider = jobs.provider AND o.provider_job_id = jobs.provider_job_id
        AND (o.created_at < jobs.created_at OR (o.created_at = jobs.created_at AND o.id < jobs.id)));
  CREATE UNIQUE INDEX jobs_by_provider_job ON jobs (provider, provider_job_id) WHERE duplicate_of IS NULL;
  CREATE INDEX idempotency_keys_by_reservation ON idempotency_keys (reservation_id);
  CREATE INDEX reservations_by_job ON reservations (job_id);
  `,
  // 6: the background worker (worker-sql.ts): job leases, next poll times, webhook capabilities, rate windows.
  SQLITE_WORKER_MIGRATION,
  // 7: pending approvals a person clicks in an MCP App view (approvals-sql.ts).
  SQLITE_APPROVALS_MIGRATION,
  // 8: jobs created with a per-request provider key (--byok) are marked; the key itself is never stored.
  BYOK_MIGRATION,
];

export const BUSY_TIMEOUT_MS = 5000;

/** Blocks the thread for `ms` (only used while opening, which is synchronous anyway). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Connection settings. Switching a new file to WAL needs an exclusive lock and SQLite does not run the
 * busy handler for it, so when another process is opening the same file at that instant we retry
 * ourselves, for up to the busy timeout. (WAL is persistent: only the first opener really switches.)
 */
export function configure(db: SqlDatabase): void {
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      break;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      sleepSync(Math.min(100, 5 * attempt) + Math.random() * 10);
    }
  }
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
}

/**
 * Creates `schema_migrations` and applies the missing migrations, all inside one BEGIN IMMEDIATE
 * transaction, so two processes opening the same new file at once never both migrate.
 */
export function migrate(db: SqlDatabase): void {
  db.immediate(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)');
    const rows = db.prepare<{ version: number }>('SELECT version FROM schema_migrations').all();
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${newest} is newer than this mediagen-mcp supports (${MIGRATIONS.length})`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (applied.has(version)) return;
      db.exec(sql);
      record.run(version, Date.now());
    });
  });
}

export interface JobRow {
  id: string;
  provider: string;
  tool: string;
  provider_job_id: string;
  args_hash: string;
  args: string;
  price: number | null;
  caller_id: string;
  principal: string;
  status: JobStatus;
  provider_status: string | null;
  progress: number | null;
  outputs: string;
  error: string | null;
  polls: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  next_poll_at: number | null;
  poll_errors: number;
  webhook_hash: string | null;
  /** 1: created with a per-request provider key (--byok); polled only by a request that sends one. */
  byok: number;
}

export function jobToRow(j: JobRecord): JobRow {
  return {
    id: j.id,
    provider: j.provider,
    tool: j.tool,
    provider_job_id: j.providerJobId,
    args_hash: j.argsHash,
    args: JSON.stringify(j.args),
    price: j.price,
    caller_id: j.callerId,
    principal: j.principal,
    status: j.status,
    provider_status: j.providerStatus,
    progress: j.progress,
    outputs: JSON.stringify(j.outputs),
    error: j.error,
    polls: j.polls,
    created_at: j.createdAt,
    updated_at: j.updatedAt,
    finished_at: j.finishedAt,
    // Unset means due at once (a final job with a time set still has outputs to keep).
    next_poll_at: j.nextPollAt === undefined ? j.createdAt : j.nextPollAt,
    poll_errors: j.pollErrors ?? 0,
    webhook_hash: j.webhookHash ?? null,
    byok: j.byok ? 1 : 0,
  };
}

export function rowToJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    provider: r.provider,
    tool: r.tool,
    providerJobId: r.provider_job_id,
    argsHash: r.args_hash,
    args: JSON.parse(r.args) as Record<string, unknown>,
    price: r.price,
    callerId: r.caller_id,
    principal: r.principal,
    status: r.status,
    providerStatus: r.provider_status,
    progress: r.progress,
    outputs: JSON.parse(r.outputs) as JobOutput[],
    error: r.error,
    polls: r.polls,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    nextPollAt: r.next_poll_at,
    pollErrors: r.poll_errors,
    webhookHash: r.webhook_hash,
    ...(Number(r.byok) === 1 ? { byok: true } : {}),
  };
}

export interface ReservationRow {
  id: string;
  provider: string;
  tool: string;
  caller_id: string;
  principal: string;
  day: string;
  credits: number;
  args_hash: string;
  state: ReservationState;
  job_id: string | null;
  created_at: number;
  updated_at: number;
}

export function rowToReservation(r: ReservationRow): Reservation {
  return {
    id: r.id,
    provider: r.provider,
    tool: r.tool,
    callerId: r.caller_id,
    principal: r.principal,
    day: r.day,
    credits: r.credits,
    argsHash: r.args_hash,
    state: r.state,
    jobId: r.job_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface TokenRow {
  token_hash: string;
  tool: string;
  args_hash: string;
  caller_id: string;
  expires_at: number;
  created_at: number;
  used_at: number | null;
}

export function tokenToRow(t: ConsentToken): TokenRow {
  return {
    token_hash: t.tokenHash,
    tool: t.tool,
    args_hash: t.argsHash,
    caller_id: t.callerId,
    expires_at: t.expiresAt,
    created_at: t.createdAt,
    used_at: null,
  };
}

export interface ObservationRow {
  provider: string;
  tool: string;
  price_key: string;
  credits: number;
  observed_at: number;
}

export function rowToObservation(r: ObservationRow): PriceObservation {
  return { provider: r.provider, tool: r.tool, priceKey: r.price_key, credits: r.credits, observedAt: r.observed_at };
}

export interface IdempotencyRow {
  key: string;
  tool: string;
  args_hash: string;
  job_id: string | null;
  created_at: number;
  outcome: IdempotencyRecord['outcome'];
  reservation_id: string | null;
}

export function rowToIdempotency(r: IdempotencyRow): IdempotencyRecord {
  return {
    key: r.key,
    tool: r.tool,
    argsHash: r.args_hash,
    jobId: r.job_id,
    createdAt: r.created_at,
    outcome: r.outcome,
    reservationId: r.reservation_id,
  };
}
