/**
 * At start with PostgreSQL down (issue 21, item 4): the server retries with backoff for
 * MEDIAGEN_STORE_START_SECONDS, each wait logged once, and serves as soon as the database is there; with
 * none it exits 1 after the bound with one clear line, and so does a command line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { HAS_PG, requirePg } from '../helpers/pg.js';
import { startOwnCluster, type OwnCluster } from '../helpers/pg-cluster.js';
import { runPiped } from '../helpers/terminal.js';

requirePg('start-up with PostgreSQL down');
const PORT = 55600 + Math.floor(Math.random() * 80);
const DIR = `/tmp/mediagen-start-${process.pid}`;
let cluster: OwnCluster | undefined;
let server: HttpServerProcess | undefined;

beforeAll(() => {
  if (!HAS_PG) return;
  cluster = startOwnCluster(DIR, PORT);
  cluster.stop();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  cluster?.remove();
});

describe.runIf(HAS_PG)('start-up with PostgreSQL down', () => {
  it('with none: exit 1 after the bound with one clear line; each wait logged once', async () => {
    const env = { DATABASE_URL: cluster!.url, MEDIAGEN_STATE_DIR: tempDir(), MEDIAGEN_STORE_START_SECONDS: '2' };
    const r = await runPiped(['--transport', 'http', '--port', '0'], env);
    expect(r.code, r.stderr).toBe(1);
    const waits = r.stderr
      .split('\n')
      .filter((l) => /warn: .*PostgreSQL\) is unavailable at start; trying again/.test(l));
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(r.stderr).toMatch(
      /mediagen-mcp: fatal: the shared store \(PostgreSQL\) is unavailable \(.*ECONNREFUSED.*\); gave up after 2 s \(MEDIAGEN_STORE_START_SECONDS\)/,
    );
    const cli = await runPiped(['jobs', 'list'], env);
    expect(cli.code, cli.stderr).toBe(1);
    expect(cli.stderr).toMatch(/fatal: the shared store \(PostgreSQL\) is unavailable/);
  });

  it('PostgreSQL started while the server waits: it comes up and serves', async () => {
    const env = { DATABASE_URL: cluster!.url, MEDIAGEN_STATE_DIR: tempDir(), MEDIAGEN_STORE_START_SECONDS: '60' };
    const late = setTimeout(() => cluster!.start(), 2_500);
    try {
      server = await spawnHttp(env);
    } finally {
      clearTimeout(late);
    }
    expect(server.stderr()).toMatch(/warn: the shared store \(PostgreSQL\) is unavailable at start; trying again/);
    expect(server.stderr()).toMatch(/info: the shared store \(PostgreSQL\) is reachable after \d+ s/);
    const c = await connectHttp(server.url);
    const r = await c.call('jobs_list', {});
    expect(r.isError).toBeFalsy();
    await c.close();
  });
});
