/**
 * A store failure after the provider accepted never loses the job (issue 17, item 2), on PostgreSQL: a
 * server over Streamable HTTP on its own throwaway cluster, PostgreSQL stopped while a create is held by
 * the sandbox (`sandbox:late`). The answer is OUTCOME_UNKNOWN with the provider job id, the job is in the
 * state dir's journal, and once PostgreSQL is started again the running server replays it on its timer:
 * jobs_list shows the job, with no second provider create (the sandbox's request counter).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH, totals, until } from '../helpers/money.js';
import { HAS_PG, requirePg } from '../helpers/pg.js';
import { startOwnCluster, type OwnCluster } from '../helpers/pg-cluster.js';
import { text } from '../helpers/stdio.js';

requirePg('paid path with PostgreSQL stopped mid-create');
/** A starting guess; .ci/pg.sh moves to the next free port when it is taken. */
const PORT = 55480 + Math.floor(Math.random() * 80);
const DIR = `/tmp/mediagen-outage-${process.pid}`;
const STATE = tempDir();
let server: HttpServerProcess | undefined;
let sandbox: Sandbox | undefined;

let cluster: OwnCluster | undefined;

beforeAll(async () => {
  if (!HAS_PG) return;
  cluster = startOwnCluster(DIR, PORT);
  const url = cluster.url;
  sandbox = await startSandbox({ slowMs: 2_500 });
  server = await spawnHttp(
    phayaEnv(sandbox, { DATABASE_URL: url, MEDIAGEN_STATE_DIR: STATE, MEDIAGEN_HTTP_TIMEOUT_MS: '4000' }),
  );
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
  cluster?.remove();
});

describe.runIf(HAS_PG)('PostgreSQL stopped while a create is out', () => {
  it('OUTCOME_UNKNOWN with the provider job id, journaled, then recorded once PostgreSQL is back; one create', async () => {
    const c = await connectHttp(server!.url);
    const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'store-outage-pg-0001' };
    const pending = c.call(T2I, args);
    await until(() => hits(sandbox!, T2I_PATH) === 1);
    cluster!.stop();

    const r = await pending;
    expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
    expect(text(r)).not.toMatch(/nothing was written/i);
    const providerJobId = sc(r).provider_job_id as string;
    const reservation = sc(r).reservation as string;
    expect(typeof providerJobId).toBe('string');
    expect(sc(r)).toMatchObject({
      journaled: true,
      settle: {
        tool: 'jobs_track',
        arguments: { tool: T2I, provider_job_id: providerJobId, reservation_id: reservation },
      },
    });
    expect(readFileSync(join(STATE, 'accepted-journal.jsonl'), 'utf8')).toContain(providerJobId);
    expect(server!.stderr()).toMatch(new RegExp(`error: .*accepted a paid call.*${providerJobId}`));

    cluster!.start();
    let listed: { job_id: string; provider_job_id: string }[] = [];
    for (let i = 0; i < 300 && listed.length === 0; i++) {
      const l = (await c.client.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
      if (!l.isError) listed = sc(l).jobs as typeof listed;
      if (listed.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    expect(listed.map((j) => [j.job_id, j.provider_job_id])).toEqual([[reservation, providerJobId]]);
    expect(totals(await c.call('spend_report'), 'phaya')).toMatchObject({ committed: 1, reserved: 0, uncertain: 0 });
    const again = await c.call(T2I, args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again)).toMatchObject({ job_id: reservation, reused: true });
    expect(hits(sandbox!, T2I_PATH)).toBe(1);
    await c.close();
  });
});
