/**
 * /readyz follows the store: a server on its own throwaway PostgreSQL cluster answers 200, then 503 while
 * the database is down (and a call fails with one clear error), then 200 again once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tempDir } from '../helpers/in-memory.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { HAS_PG, requirePg } from '../helpers/pg.js';
import { startOwnCluster, type OwnCluster } from '../helpers/pg-cluster.js';
import { text } from '../helpers/stdio.js';

requirePg('/readyz on PostgreSQL');
/** A starting guess; .ci/pg.sh moves to the next free port when it is taken. */
const PORT = 55400 + Math.floor(Math.random() * 80);
const DIR = `/tmp/mediagen-readyz-${process.pid}`;
let server: HttpServerProcess | undefined;

let cluster: OwnCluster | undefined;

beforeAll(async () => {
  if (!HAS_PG) return;
  cluster = startOwnCluster(DIR, PORT);
  const url = cluster.url;
  server = await spawnHttp({ DATABASE_URL: url, MEDIAGEN_STATE_DIR: tempDir() });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  cluster?.remove();
});

describe.runIf(HAS_PG)('/readyz and a lost database', () => {
  it('200, then 503 and a clear error while PostgreSQL is down, then 200 when it is back', async () => {
    const base = server!.url.replace(/\/mcp$/, '');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const c = await connectHttp(server!.url);
    cluster!.stop();
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'store unreachable' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const r = (await c.client.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^STORE_UNAVAILABLE: The shared store \(PostgreSQL\) is unavailable/);
    cluster!.start();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await fetch(`${base}/readyz`)).status;
      if (status !== 200) await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe(200);
    const again = (await c.client.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
    expect(again.isError, text(again)).toBeFalsy();
    await c.close();
  });
});
