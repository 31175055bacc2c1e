/** Graceful shutdown over HTTP: SIGTERM stops accepting, answers the call in flight, and the job is in the ledger. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { connectHttp, INIT, MCP_HEADERS, spawnHttp } from '../helpers/http-server.js';
import { text } from '../helpers/stdio.js';

let sandbox: Sandbox;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2, slowMs: 1_500 });
});
afterAll(() => sandbox.close());

describe('graceful shutdown', () => {
  it('SIGTERM during a create: new requests are turned away, the call is answered, the job is in the ledger', async () => {
    const stateDir = tempDir();
    const env = {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: sandbox.key,
      MEDIAGEN_STATE_DIR: stateDir,
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    };
    const server = await spawnHttp(env, ['--drain-seconds', '10']);
    const c = await connectHttp(server.url);
    const before = sandbox.stats().total;
    const call = c.call('mediaio_t2i_imagen_4', { prompt: 'drain sandbox:slow', counts: '1' });
    for (let i = 0; i < 100 && sandbox.stats().total === before; i++) await new Promise((r) => setTimeout(r, 20));
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const late = await fetch(server.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(late).not.toBe(200);
    const r = await call;
    expect(r.isError, text(r)).toBeFalsy();
    const jobId = sc(r).job_id as string;
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/SIGTERM: draining for up to 10 s/);

    const again = await spawnHttp(env);
    const c2 = await connectHttp(again.url);
    const jobs = sc(await c2.call('jobs_list', {})).jobs as { job_id: string }[];
    expect(jobs.map((j) => j.job_id)).toContain(jobId);
    await c2.close();
    expect(await again.stop()).toBe(0);
  });
});
