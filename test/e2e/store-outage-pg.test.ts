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

  it('before the request: STORE_UNAVAILABLE, zero provider requests; the outage logged once at its start and once at its end', async () => {
    const c = await connectHttp(server!.url);
    expect((await c.call('spend_report')).isError).toBeFalsy();
    const before = hits(sandbox!, T2I_PATH);
    const lines = (re: RegExp): string[] =>
      server!
        .stderr()
        .split('\n')
        .filter((l) => re.test(l));
    const down = /error: the shared store \(PostgreSQL\) is unavailable/;
    const back = /info: the shared store \(PostgreSQL\) is reachable again after \d+ s/;
    const downBefore = lines(down).length;
    const backBefore = lines(back).length;
    cluster!.stop();
    for (let i = 0; i < 3; i++) {
      const r = await c.call(T2I, { prompt: `a lantern ${i}`, idempotency_key: `store-outage-before-${i}` });
      expect(sc(r).code, text(r)).toBe('STORE_UNAVAILABLE');
      expect(sc(r)).toMatchObject({ sent: false, provider: 'phaya' });
      expect(text(r)).toMatch(/nothing was sent to phaya and nothing was charged/);
      const l = await c.call('jobs_list', {});
      expect(sc(l).code, text(l)).toBe('STORE_UNAVAILABLE');
    }
    expect(hits(sandbox!, T2I_PATH)).toBe(before);
    // Logged once the probe right after the first failure failed too.
    await until(() => lines(down).length > downBefore);
    expect(lines(down).length).toBe(downBefore + 1);
    expect(server!.stderr()).not.toMatch(/tool call failed/);

    cluster!.start();
    await until(() => lines(back).length > backBefore, 20_000);
    const after = await c.call(T2I, { prompt: 'a lantern again', idempotency_key: 'store-outage-before-0' });
    expect(after.isError, text(after)).toBeFalsy();
    expect(hits(sandbox!, T2I_PATH)).toBe(before + 1);
    expect(lines(down).length).toBe(downBefore + 1);
    expect(lines(back).length).toBe(backBefore + 1);
    await c.close();
  });
});
