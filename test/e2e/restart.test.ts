/** Crash and restart with a real SIGKILL: the ledgers live in the state folder and survive. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { spawnStdio, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 8, slowMs: 20_000 });
});
afterAll(() => sandbox.close());

function env(stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: sandbox.key,
    MEDIAGEN_STATE_DIR: stateDir,
    MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    MEDIAGEN_POLL_MS: '200',
    ...extra,
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

function kill(s: StdioServer): void {
  expect(s.pid).toBeGreaterThan(0);
  process.kill(s.pid!, 'SIGKILL');
}

describe('restart recovery', () => {
  it('a server killed mid-wait: a new process on the same state folder lists the job and finishes the wait', async () => {
    sandbox.reset();
    const state = tempDir();
    const a = await spawnStdio(env(state));
    const created = sc(await a.call('mediaio_t2i_imagen_4', { prompt: 'a slow snail' }));
    const jobId = created.job_id as string;
    void a.call('jobs_wait', { job_id: jobId }).catch(() => undefined);
    await until(() => sandbox.stats().requests.filter((r) => r.path.includes('/generation/result/')).length >= 2);
    kill(a);
    await a.close().catch(() => undefined);

    const b = await spawnStdio(env(state));
    try {
      const listed = sc(await b.call('jobs_list', {})).jobs as { job_id: string; status: string }[];
      expect(listed.map((j) => j.job_id)).toEqual([jobId]);
      expect(['pending', 'running']).toContain(listed[0].status);
      const done = await b.call('jobs_wait', { job_id: jobId });
      expect(sc(done)).toMatchObject({ job_id: jobId, status: 'succeeded' });
      expect((sc(done).outputs as unknown[]).length).toBe(1);
    } finally {
      await b.close();
    }
  });

  it('a server killed between reserving and the provider answer: the spend shows as uncertain and the same idempotency_key creates nothing new', async () => {
    sandbox.reset();
    const state = tempDir();
    const a = await spawnStdio(env(state, { MEDIAGEN_HTTP_TIMEOUT_MS: '30000' }));
    const args = { prompt: 'a heavy anvil sandbox:slow', idempotency_key: 'crash-test-0001' };
    void a.call('mediaio_t2i_imagen_4', args).catch(() => undefined);
    await until(() => sandbox.stats().total === 1);
    kill(a);
    await a.close().catch(() => undefined);

    // The new server's request deadline is 500 ms, so a reservation still open 2.5 s after it was made
    // can only belong to a process that died: it is reported as uncertain.
    const b = await spawnStdio(env(state, { MEDIAGEN_HTTP_TIMEOUT_MS: '500' }));
    try {
      await sleep(2_700);
      const report = sc(await b.call('spend_report', {}));
      const entries = report.entries as { tool: string; state: string; credits: number }[];
      expect(entries).toEqual([
        expect.objectContaining({ tool: 'mediaio_t2i_imagen_4', state: 'uncertain', credits: 1 }),
      ]);
      const mediaio = (report.providers as { provider: string; all_time: { uncertain: number } }[]).find(
        (p) => p.provider === 'mediaio',
      );
      expect(mediaio?.all_time.uncertain).toBe(1);
      const retry = await b.call('mediaio_t2i_imagen_4', args);
      expect(sc(retry).code).toBe('OUTCOME_UNKNOWN');
      expect(sandbox.stats().total).toBe(1);
    } finally {
      await b.close();
    }
  });
});
