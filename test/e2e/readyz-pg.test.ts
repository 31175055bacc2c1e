/**
 * /readyz follows the store: a server on its own throwaway PostgreSQL cluster answers 200, then 503 while
 * the database is down (and a call fails with one clear error), then 200 again once it is back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { HAS_PG, requirePg } from '../helpers/pg.js';
import { text } from '../helpers/stdio.js';

requirePg('/readyz on PostgreSQL');
/** A starting guess; .ci/pg.sh moves to the next free port when it is taken, and the URL says which. */
let PORT = 55400 + Math.floor(Math.random() * 80);
const DIR = `/tmp/mediagen-readyz-${process.pid}`;
let server: HttpServerProcess | undefined;

function pgCtl(action: 'start' | 'stop'): void {
  const bin = readdirSync('/usr/lib/postgresql').sort().at(-1);
  const ctl = `/usr/lib/postgresql/${bin}/bin/pg_ctl`;
  const args = ['-D', `${DIR}/data`, '-w', '-l', `${DIR}/server.log`];
  if (action === 'start') args.push('-o', `-p ${PORT} -k ${DIR} -c listen_addresses=127.0.0.1`);
  else args.push('-m', 'fast');
  execFileSync('runuser', ['-u', 'postgres', '--', ctl, ...args, action], { stdio: 'ignore' });
}

beforeAll(async () => {
  if (!HAS_PG) return;
  const url = execFileSync('bash', [`${ROOT}.ci/pg.sh`, 'start', DIR, String(PORT)], { encoding: 'utf8' }).trim();
  PORT = Number(new URL(url).port);
  server = await spawnHttp({ DATABASE_URL: url, MEDIAGEN_STATE_DIR: tempDir() });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  if (existsSync(DIR)) execFileSync('bash', [`${ROOT}.ci/pg.sh`, 'stop', DIR], { stdio: 'ignore' });
});

describe.runIf(HAS_PG)('/readyz and a lost database', () => {
  it('200, then 503 and a clear error while PostgreSQL is down, then 200 when it is back', async () => {
    const base = server!.url.replace(/\/mcp$/, '');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const c = await connectHttp(server!.url);
    pgCtl('stop');
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'store unreachable' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const r = (await c.client.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/shared store \(PostgreSQL\) is unreachable/);
    pgCtl('start');
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
