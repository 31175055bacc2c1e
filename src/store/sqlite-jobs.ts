/**
 * SQL building for the job table (keyset pagination cursors, list filters, partial updates) and the
 * maintenance purge of expired consent tokens and old idempotency keys.
 */
import type { SqlDatabase } from './sqlite-driver.js';
import { PURGE_APPROVALS_SQL } from './approvals-sql.js';
import { SETTLED_KEY_SQL, type JobPatch, type JobQuery, type PurgeCounts, type UpdateOptions } from './store.js';
import { FINAL_SQL } from './worker-sql.js';

export const MAX_PAGE = 100;

/** Page size clamped to 1..100 (a missing or non-finite size means the largest page). */
export function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_PAGE;
  return Math.min(MAX_PAGE, Math.max(1, Math.floor(limit)));
}

interface CursorKey {
  createdAt: number;
  id: string;
}

/** Opaque cursor: base64url of JSON {c: createdAt, i: id} of the last row of a page. */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify({ c: key.createdAt, i: key.id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('bad cursor: not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new Error('bad cursor: not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('bad cursor: not an object');
  const { c, i } = parsed as { c?: unknown; i?: unknown };
  // A position is a creation time in ms: a safe integer (a fraction or a huge number is no position).
  if (typeof c !== 'number' || !Number.isSafeInteger(c) || typeof i !== 'string') {
    throw new Error('bad cursor: missing position');
  }
  return { createdAt: c, id: i };
}

export interface ListSql {
  sql: string;
  params: Record<string, string | number>;
}

/** SELECT for one page of jobs; asks for limit + 1 rows to know whether another page exists. */
export function listJobsSql(q: JobQuery): ListSql {
  const where: string[] = [];
  const params: Record<string, string | number> = { take: clampLimit(q.limit) + 1 };
  if (q.principal !== undefined) {
    where.push('principal = @principal');
    params.principal = q.principal;
  }
  if (q.status !== undefined) {
    where.push('status = @status');
    params.status = q.status;
  }
  if (q.provider !== undefined) {
    where.push('provider = @provider');
    params.provider = q.provider;
  }
  if (q.since !== undefined) {
    where.push('created_at >= @since');
    params.since = q.since;
  }
  if (q.until !== undefined) {
    where.push('created_at < @until');
    params.until = q.until;
  }
  if (q.cursor !== undefined) {
    const key = decodeCursor(q.cursor);
    where.push('(created_at < @curC OR (created_at = @curC AND id < @curI))');
    params.curC = key.createdAt;
    params.curI = key.id;
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM jobs ${filter} ORDER BY created_at DESC, id DESC LIMIT @take`, params };
}

const PATCH_COLUMNS = {
  status: 'status',
  providerStatus: 'provider_status',
  progress: 'progress',
  outputs: 'outputs',
  error: 'error',
  finishedAt: 'finished_at',
  polls: 'polls',
  nextPollAt: 'next_poll_at',
} as const satisfies Record<keyof JobPatch, string>;

type PatchKey = keyof typeof PATCH_COLUMNS;

export interface UpdateSql {
  sql: string;
  params: Record<string, string | number | null>;
}

/** UPDATE for the fields present in `patch` (undefined = leave as is), always setting updated_at. */
export function updateJobSql(id: string, patch: JobPatch, now: number, opts: UpdateOptions = {}): UpdateSql {
  const sets = ['updated_at = @now'];
  const params: Record<string, string | number | null> = { id, now };
  for (const key of Object.keys(PATCH_COLUMNS) as PatchKey[]) {
    const value = patch[key];
    if (value === undefined) continue;
    sets.push(`${PATCH_COLUMNS[key]} = @${key}`);
    params[key] = key === 'outputs' ? JSON.stringify(value) : (value as string | number | null);
  }
  const open = opts.onlyOpen === true ? ` AND status NOT IN ${FINAL_SQL}` : '';
  return { sql: `UPDATE jobs SET ${sets.join(', ')} WHERE id = @id${open}`, params };
}

/**
 * Maintenance: expired consent tokens and approvals, and idempotency keys older than the window whose
 * outcome is settled (an unknown one stays bound); one transaction.
 */
export function purgeSqlite(db: SqlDatabase, q: { tokensBefore: number; keysBefore: number }): PurgeCounts {
  return db.immediate(() => ({
    tokens: Number(db.prepare('DELETE FROM consent_tokens WHERE expires_at < ?').run(q.tokensBefore).changes),
    keys: Number(
      db.prepare(`DELETE FROM idempotency_keys WHERE created_at < ? AND ${SETTLED_KEY_SQL}`).run(q.keysBefore).changes,
    ),
    approvals: Number(db.prepare(PURGE_APPROVALS_SQL).run({ before: q.tokensBefore }).changes),
  }));
}
