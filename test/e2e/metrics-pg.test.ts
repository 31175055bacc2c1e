/**
 * /metrics of two replicas on one PostgreSQL store: the counters are each process's own, the money and job
 * gauges are read from the shared store, so both replicas report the same values.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectHttp, spawnHttp } from '../helpers/http-server.js';
import { sample, scrape, total } from '../helpers/metrics.js';
import { phayaEnv, sc, T2I } from '../helpers/money.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';

requirePg('metrics of two replicas on PostgreSQL');
const TOKEN = 'pg-metrics-token-0123456789';

describe.skipIf(!HAS_PG)('two replicas on PostgreSQL', () => {
  let sandbox: Sandbox;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    sandbox = await startSandbox({ pollsToComplete: 100_000 });
    db = await freshDatabase();
  });
  afterAll(async () => {
    await sandbox?.close();
    await db?.drop();
  });

  it('count their own calls and report the same ledger; a lost database is store_up 0', async () => {
    const env = (): Record<string, string> =>
      phayaEnv(sandbox, { DATABASE_URL: db.url, MEDIAGEN_METRICS_TOKEN: TOKEN });
    const [a, b] = await Promise.all([spawnHttp(env()), spawnHttp(env())]);
    try {
      const mcp = await connectHttp(a.url);
      expect(sc(await mcp.call(T2I, { prompt: 'a harbour' })).job_id).toEqual(expect.any(String));
      await mcp.close();
      const [ma, mb] = await Promise.all(
        [a, b].map(async (s) => (await scrape(s.url.replace(/\/mcp$/, '/metrics'), TOKEN)).body),
      );
      expect(sample(ma, 'mediagen_provider_requests_total', { provider: 'phaya', class: 'accepted' })).toBe(1);
      expect(total(mb, 'mediagen_provider_requests_total')).toBe(0);
      for (const body of [ma, mb]) {
        expect(sample(body, 'mediagen_credits', { provider: 'phaya', state: 'committed' })).toBe(1);
        expect(total(body, 'mediagen_open_jobs')).toBe(1);
      }
      expect(sample(ma, 'mediagen_store_call_seconds_count', { method: 'reserve', result: 'ok' })).toBe(1);
      expect(sample(ma, 'mediagen_store_up')).toBe(1);
      // The database goes away: the scrape still answers, says so, and keeps the counters.
      await db.drop();
      const gone = await scrape(a.url.replace(/\/mcp$/, '/metrics'), TOKEN);
      expect(gone.status).toBe(200);
      expect(sample(gone.body, 'mediagen_store_up')).toBe(0);
      expect(total(gone.body, 'mediagen_credits')).toBe(0);
      expect(sample(gone.body, 'mediagen_provider_requests_total', { provider: 'phaya', class: 'accepted' })).toBe(1);
      // The scrape's own reads are not store calls of the server: they are not in the histogram.
      expect(total(gone.body, 'mediagen_store_call_seconds_count', { method: 'spendTotals' })).toBe(0);
      // A call in the outage fails through the store's outage watch, and is timed as result="error".
      const during = await connectHttp(a.url);
      const listed = await during.call('jobs_list', {});
      await during.close();
      expect(listed.isError).toBe(true);
      const after = (await scrape(a.url.replace(/\/mcp$/, '/metrics'), TOKEN)).body;
      expect(sample(after, 'mediagen_store_call_seconds_count', { method: 'listJobs', result: 'error' })).toBe(1);
      expect(sample(after, 'mediagen_tool_calls_total', { tool: 'jobs_list', outcome: String(sc(listed).code) })).toBe(
        1,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a scrape whose store read hangs (a table locked) answers store_up 0 within its bound, then 1 again', async () => {
    const fresh = await freshDatabase();
    const server = await spawnHttp(phayaEnv(sandbox, { DATABASE_URL: fresh.url, MEDIAGEN_METRICS_TOKEN: TOKEN }));
    const locker = new pg.Client({ connectionString: fresh.url });
    await locker.connect();
    const url = server.url.replace(/\/mcp$/, '/metrics');
    try {
      expect(sample((await scrape(url, TOKEN)).body, 'mediagen_store_up')).toBe(1);
      // The spend totals wait for this lock for as long as it is held: the scrape must not.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE reservations IN ACCESS EXCLUSIVE MODE');
      const held = await scrape(url, TOKEN);
      expect(held.status).toBe(200);
      expect(sample(held.body, 'mediagen_store_up')).toBe(0);
      expect(total(held.body, 'mediagen_credits')).toBe(0);
      // A second scrape meanwhile waits on the same read: one query waits for the lock, not two.
      expect(sample((await scrape(url, TOKEN)).body, 'mediagen_store_up')).toBe(0);
      const waiting = await locker.query<{ n: string }>(
        `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      expect(Number(waiting.rows[0].n)).toBe(1);
      await locker.query('ROLLBACK');
      expect(sample((await scrape(url, TOKEN)).body, 'mediagen_store_up')).toBe(1);
    } finally {
      await locker.end().catch(() => undefined);
      await server.stop();
      await fresh.drop();
    }
  }, 30_000);
});
