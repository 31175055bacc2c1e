/**
 * models' health line and spend_report's worker and uncertain lines, through a real MCP Client over a real
 * SQLite store: per tool, how many of the caller's own jobs failed in the last 24 h; what the background
 * worker settled (or that there is none); how long each uncertain reservation has been uncertain.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { createWorker } from '../../src/app-worker.js';
import { loadConfig } from '../../src/config.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import type { JobStatus, Store } from '../../src/store/store.js';
import { makeJob } from '../store/contract-fixtures.js';
import { tempDir } from '../helpers/in-memory.js';

const NOW = Date.now();
const HOUR = 3_600_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function harness(
  opts: Partial<AppOptions> = {},
  env: Record<string, string> = {},
): Promise<{
  store: Store;
  app: App;
  config: ReturnType<typeof loadConfig>['config'];
  call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
}> {
  const dir = tempDir();
  const store = await openStore({ stateDir: dir });
  closers.push(() => store.close());
  const { config } = loadConfig([], { MEDIAGEN_STATE_DIR: dir, ...env });
  const app = await createApp(config, silentLogger, {
    store,
    now: () => NOW,
    override: () => ({ baseUrl: 'http://127.0.0.1:9', key: 'test-key' }),
    ...opts,
  });
  closers.push(() => app.close());
  const { server } = app.createMcpServer('caller-a', 'local');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'health-test', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  closers.push(() => client.close());
  return {
    store,
    app,
    config,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
  };
}

let n = 0;
async function jobs(
  store: Store,
  tool: string,
  statuses: JobStatus[],
  over: { principal?: string; ago?: number } = {},
) {
  for (const status of statuses) {
    n += 1;
    const at = NOW - (over.ago ?? HOUR);
    await store.insertJob(
      makeJob({
        id: `job_h${n}`,
        tool,
        provider: tool.split('_')[0],
        status,
        principal: over.principal ?? 'local',
        createdAt: at,
        updatedAt: at,
      }),
    );
  }
}

type Row = { tool: string; price: string; health?: { jobs: number; failed: number; text: string } };
const tools = (r: CallToolResult): Row[] =>
  (r.structuredContent as { families: { tools: Row[] }[] }).families.flatMap((f) => f.tools);
const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe('models: failures in the last 24 h, from our own ledger', () => {
  it("says per tool how many of the caller's jobs failed; nothing for a tool with no jobs", async () => {
    const { store, call } = await harness();
    await jobs(store, 'phaya_veo31_video', ['failed', 'failed', 'failed', ...Array<JobStatus>(37).fill('succeeded')]);
    await jobs(store, 'phaya_seedance', ['succeeded', 'running']);
    // Older than 24 h, and another principal's: neither counts.
    await jobs(store, 'phaya_seedance', ['failed', 'failed'], { ago: 25 * HOUR });
    await jobs(store, 'phaya_seedance', ['failed', 'failed', 'failed'], { principal: 'someone-else' });
    const r = await call('models', {});
    expect(r.isError, textOf(r)).toBeFalsy();
    const rows = tools(r);
    const veo = rows.find((t) => t.tool === 'phaya_veo31_video');
    expect(veo?.health).toEqual({ jobs: 40, failed: 3, text: '3 of 40 failed in the last 24 h' });
    expect(rows.find((t) => t.tool === 'phaya_seedance')?.health?.text).toBe('0 of 2 failed in the last 24 h');
    expect(textOf(r)).toContain('phaya_veo31_video (15 credits; 3 of 40 failed in the last 24 h)');
    const quiet = rows.filter((t) => !['phaya_veo31_video', 'phaya_seedance'].includes(t.tool));
    expect(quiet.length).toBeGreaterThan(10);
    for (const t of quiet) expect(t.health, t.tool).toBeUndefined();
  });
});

describe('spend_report: what the worker settled, and uncertain reservations by age', () => {
  it('reports what the background worker refunded since it started', async () => {
    const sandbox = await startSandbox({ pollsToComplete: 1 });
    closers.push(() => sandbox.close());
    const { app, config, store, call } = await harness(
      {
        now: Date.now,
        override: (cat) => ({ baseUrl: sandbox.baseUrl(cat.provider, cat.baseUrl.default), key: sandbox.key }),
      },
      { MEDIAGEN_POLL_MS: '50' },
    );
    const worker = createWorker(config, silentLogger, store, () => app);
    expect(worker).toBeDefined();
    app.worker = worker;
    worker?.start();
    closers.push(async () => worker?.stop());
    const since = new Date(worker?.stats().since ?? 0).toISOString();
    const first = await call('spend_report', {});
    expect(textOf(first)).toContain(
      `Background worker running since ${since}; since then 0 of your reservations were refunded (0 credits)`,
    );
    // Another principal's refund in the same store is not this caller's to see.
    const other = await store.reserve({
      id: 'res-other',
      provider: 'phaya',
      tool: 'phaya_seedream',
      callerId: 'caller-z',
      principal: 'someone-else',
      day: '2026-12-02',
      credits: 7,
      argsHash: 'h-other',
      now: Date.now(),
    });
    expect(other.ok).toBe(true);
    await store.commit('res-other', 'job_other', Date.now());
    await store.refund('res-other', Date.now());
    // Two jobs that fail at the provider, and nobody polls them: the worker does, and refunds them.
    for (const prompt of ['a cat sandbox:fail', 'a dog sandbox:fail']) {
      const r = await call('phaya_seedream', { prompt });
      expect(r.isError, textOf(r)).toBeFalsy();
    }
    let report: CallToolResult | undefined;
    for (let i = 0; i < 400; i++) {
      report = await call('spend_report', {});
      if ((report.structuredContent as { worker?: { refunded: number } }).worker?.refunded === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(textOf(report as CallToolResult)).toContain(
      `Background worker running since ${since}; since then 2 of your reservations were refunded (3 credits)`,
    );
    expect((report as CallToolResult).structuredContent).toMatchObject({
      worker: { since, refunded: 2, refunded_credits: 3 },
    });
  });

  it('reports each uncertain reservation with how long it has been uncertain', async () => {
    const { store, call } = await harness();
    const reserve = async (id: string, credits: number, at: number, principal = 'local') => {
      const r = await store.reserve({
        id,
        provider: 'phaya',
        tool: 'phaya_veo31_video',
        callerId: 'caller-a',
        principal,
        day: '2026-12-02',
        credits,
        argsHash: `h-${id}`,
        now: at - 1_000,
      });
      expect(r.ok).toBe(true);
      await store.markUncertain(id, at);
    };
    await reserve('res_old', 50, NOW - (2 * HOUR + 5 * 60_000));
    await reserve('res_new', 15, NOW - 45_000);
    await reserve('res_theirs', 15, NOW - HOUR, 'someone-else');
    const r = await call('spend_report', {});
    expect(r.isError, textOf(r)).toBeFalsy();
    const text = textOf(r);
    expect(text).toContain('Uncertain for 2 h 5 min: phaya_veo31_video, 50 credits (reservation res_old');
    expect(text).toContain('Uncertain for 45 s: phaya_veo31_video, 15 credits (reservation res_new');
    expect(text).not.toContain('res_theirs');
    const sc = r.structuredContent as Record<string, unknown>;
    expect(sc.uncertain).toEqual([
      expect.objectContaining({ reservation: 'res_old', credits: 50, uncertain_for_seconds: 2 * 3600 + 300 }),
      expect.objectContaining({ reservation: 'res_new', credits: 15, uncertain_for_seconds: 45 }),
    ]);
  });

  it('says when no background worker runs in this process, and lists no uncertain reservation when none', async () => {
    const { call } = await harness();
    const r = await call('spend_report', {});
    const text = textOf(r);
    expect(text).toContain('No background worker in this process');
    expect(text).not.toContain('Uncertain for');
    const sc = r.structuredContent as Record<string, unknown>;
    expect(sc.worker).toBeNull();
    expect(sc.uncertain).toEqual([]);
  });
});
