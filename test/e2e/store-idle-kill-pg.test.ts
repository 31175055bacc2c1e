/**
 * A routine cut of an idle PostgreSQL connection (pg_terminate_backend, as idle_session_timeout or a proxy
 * would) is no outage: the store probes once, the probe works, and no "is unavailable" line is logged;
 * the next call works.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { phayaEnv } from '../helpers/money.js';
import { DATABASE_URL, freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

requirePg('an idle PostgreSQL connection cut');
let sandbox: Sandbox;
let db: { url: string; drop: () => Promise<void> } | undefined;
let server: StdioServer | undefined;

beforeAll(async () => {
  if (!HAS_PG) return;
  sandbox = await startSandbox();
  db = await freshDatabase();
}, 30_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
  await sandbox?.close();
});

describe.runIf(HAS_PG)('an idle connection cut by the server', () => {
  it('logs no outage, and the next call works', async () => {
    server = await spawnStdio(phayaEnv(sandbox, { DATABASE_URL: db!.url, MEDIAGEN_LOG_LEVEL: 'debug' }));
    expect((await server.call('spend_report')).isError).toBeFalsy();
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    const name = new URL(db!.url).pathname.slice(1);
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    // The pool has seen the cut (its idle client's error), and the probe has answered.
    const end = Date.now() + 10_000;
    while (!/store connection (lost|failed once)/.test(server.stderr()) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const after = await server.call('spend_report');
    expect(after.isError, text(after)).toBeFalsy();
    expect(server.stderr()).not.toMatch(/is unavailable/);
  }, 40_000);
});
