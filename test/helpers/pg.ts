/**
 * PostgreSQL for tests: DATABASE_URL (CI starts a throwaway cluster in .ci/run). Without it, tests that
 * need PostgreSQL are skipped with a printed reason locally; under CI its absence is a failure.
 */
import { randomBytes } from 'node:crypto';
import { it } from 'vitest';
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL;
export const HAS_PG = Boolean(DATABASE_URL);

/** Call at the top of a PostgreSQL test file. */
export function requirePg(what: string): void {
  if (HAS_PG) return;
  if (process.env.CI) {
    it(`${what}: PostgreSQL is required under CI`, () => {
      throw new Error('DATABASE_URL is not set under CI: the PostgreSQL tests would be skipped');
    });
    return;
  }
  process.stderr.write(`[skip] ${what}: DATABASE_URL is not set (bash .ci/pg.sh start prints one)\n`);
  it.skip(`${what}: needs DATABASE_URL (bash .ci/pg.sh start prints one)`, () => undefined);
}

/** A fresh schema name per test store. */
export function freshSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

export async function dropSchemas(names: string[]): Promise<void> {
  if (!DATABASE_URL || names.length === 0) return;
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    for (const n of names.splice(0)) await c.query(`DROP SCHEMA IF EXISTS ${n} CASCADE`);
  } finally {
    await c.end();
  }
}

/** A fresh database (not only a schema), for processes that take only DATABASE_URL. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const name = `db_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
