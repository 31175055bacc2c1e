/**
 * The PostgreSQL connection layer of PgStore: one `pg` pool, migrations at open, single statements and
 * transactions that turn a lost connection into one clear error (nothing half-written).
 */
import pg from 'pg';
import { asOutage, isConnectionError } from './outage.js';
import { migratePg, typeParser } from './postgres-schema.js';

export interface PgOptions {
  /** Use (and create) this schema instead of the default search path (tests: one schema per test). */
  schema?: string;
  max?: number;
  /** application_name of every connection (operators see which replica holds what). */
  applicationName?: string;
  /** Called when an idle pooled connection fails (the pool replaces it). */
  onError?: (err: Error) => void;
}

/** A lost database becomes one clear error, STORE_UNAVAILABLE; SQL errors pass through unchanged. */
export function storeError(err: unknown): unknown {
  return asOutage(err, 'postgres') ?? err;
}

export class PgDb {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects, creates the schema if asked, and applies the missing migrations under an advisory lock. */
  static async open(url: string, opts: PgOptions = {}): Promise<PgDb> {
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema))
      throw new Error(`bad schema name "${opts.schema}"`);
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: 5_000,
      application_name: opts.applicationName ?? 'mediagen-mcp',
      types: typeParser(pg.types),
      options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
    });
    pool.on('error', (err) => opts.onError?.(err));
    try {
      const client = await pool.connect();
      try {
        await migratePg(client, opts.schema);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PgDb(pool);
  }

  async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw storeError(err);
    }
  }

  /** Runs `fn` in one transaction (rolled back on any error). */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    let broken = false;
    // A checked-out client whose connection dies emits 'error'; unheard, that would end the process.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      broken = isConnectionError(err);
      await client.query('ROLLBACK').catch(() => undefined);
      throw storeError(err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}
