/** jobs_wait's backoff and wait budget under a fake clock, through the real tool, ledger, store and sandbox. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { backoff } from '../../src/jobs/wait.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';

let sandbox: Sandbox;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 6 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function setup(gateway: Sandbox = sandbox) {
  let now = Date.parse('2026-11-22T12:00:00Z');
  const sleeps: number[] = [];
  const { config } = loadConfig(['--prices', `${ROOT}test/fixtures/prices/mediaio.json`], {
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_POLL_MS: '1000',
  });
  const app = await createApp(config, silentLogger, {
    override: (cat) => ({ baseUrl: gateway.baseUrl(cat.provider, cat.baseUrl.default), key: gateway.key }),
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  const { server } = app.createMcpServer('fake-clock');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'wait-test', version: '1' });
  await Promise.all([server.connect(a), client.connect(b)]);
  closers.push(async () => {
    await client.close();
    await app.close();
  });
  const call = async (
    name: string,
    args: Record<string, unknown>,
    onprogress?: (p: { progress: number; message?: string }) => void,
  ) =>
    (await client.callTool(
      { name, arguments: args },
      undefined,
      onprogress ? { onprogress } : undefined,
    )) as CallToolResult;
  const created = await call('mediaio_t2i_imagen_4', { prompt: 'a moth' });
  const jobId = (created.structuredContent as { job_id: string }).job_id;
  return { call, jobId, sleeps };
}

describe('backoff', () => {
  it('grows by 1.5x from the base and stops at the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoff(1000, n, 5000))).toEqual([
      1000, 1500, 2250, 3375, 5000, 5000, 5000,
    ]);
  });
});

describe('jobs_wait under a fake clock', () => {
  it('polls with backoff until done, sending increasing progress notifications', async () => {
    const { call, jobId, sleeps } = await setup();
    const progress: number[] = [];
    const r = await call('jobs_wait', { job_id: jobId }, (p) => progress.push(p.progress));
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: 'succeeded' });
    expect(sleeps).toEqual([1000, 1500, 2250, 3375, 5063]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('returns the still-running job when the budget is spent (not an error), and finishes on the next call', async () => {
    const { call, jobId, sleeps } = await setup();
    const first = await call('jobs_wait', { job_id: jobId, wait_seconds: 3 });
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ status: 'running', done: false });
    expect(sleeps).toEqual([1000, 1500, 500]);
    expect((first.content[0] as { text: string }).text).toMatch(/still running after waiting 3 s[^]*Call jobs_wait/);
    const second = await call('jobs_wait', { job_id: jobId });
    expect(second.structuredContent).toMatchObject({ status: 'succeeded' });
  });

  it('reports JOB_TIMEOUT once a job outlives its catalogue time limit (30 min for Media.io)', async () => {
    const never = await startSandbox({ pollsToComplete: 100_000 });
    closers.push(() => never.close());
    const { call, jobId } = await setup(never);
    let last: CallToolResult | undefined;
    for (let i = 0; i < 60; i++) {
      last = await call('jobs_wait', { job_id: jobId, wait_seconds: 55 });
      if (last.isError) break;
      expect(last.structuredContent).toMatchObject({ status: 'running', done: false });
    }
    expect(last?.structuredContent).toMatchObject({ code: 'JOB_TIMEOUT', job_id: jobId, status: 'running' });
  });
});
