/**
 * MCP Tasks at their edges, through a real SDK client over stdio: a job past our time limit stays a
 * `working` task until the provider decides (a terminal status never changes), and is failed for good only
 * 48 h after the limit; refused task-augmented calls are held under a per-principal cap; the provider sees
 * at most one status poll per poll interval however often tasks/get and tasks/result ask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  type CallToolResult,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/open.js';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { phayaEnv, sc, T2I, totals } from '../helpers/money.js';
import { quickTimeoutCatalogue } from '../helpers/paths.js';
import { connectHttp, spawnHttp, writeTokens } from '../helpers/http-server.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const createTask = async (client: Client, name: string, args: Record<string, unknown>): Promise<Task> =>
  (await client.request({ method: 'tools/call', params: { name, arguments: args, task: {} } }, CreateTaskResultSchema))
    .task;

describe('a task past our time limit', () => {
  let hostile: HostileProvider;
  let server: StdioServer;
  const stateDir = tempDir();
  beforeAll(async () => {
    hostile = await startHostileProvider();
    hostile.setOutputs([`${hostile.url}/media/late.png`]);
    server = await spawnStdio(
      { ACME_API_KEY: ACME_KEY, ACME_BASE_URL: hostile.url, MEDIAGEN_STATE_DIR: stateDir, MEDIAGEN_POLL_MS: '50' },
      ['--catalogue', quickTimeoutCatalogue()],
    );
  });
  afterAll(async () => {
    await server?.close();
    await hostile?.close();
  });

  it('stays working (saying the provider has not decided) until the provider decides, then completes; nothing refunded', async () => {
    hostile.setStatus('processing');
    const task = await createTask(server.client, 'acme_image_create', { prompt: 'a late boat' });
    expect(task.status).toBe('working');
    const seen: Task[] = [];
    for (let i = 0; i < 200; i++) {
      const t = await server.client.experimental.tasks.getTask(task.taskId);
      seen.push(t);
      if (t.statusMessage?.includes('Past our time limit')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const late = seen.at(-1)!;
    expect(late.statusMessage).toMatch(/Past our time limit of 0 s; the provider has not decided yet/);
    expect(seen.every((t) => t.status === 'working')).toBe(true);
    // Still undecided on a second look: still working, and the credits stay committed.
    expect((await server.client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
    expect(totals(await server.call('spend_report'), 'acme')).toMatchObject({ committed: 2, refunded: 0 });

    hostile.setStatus('completed');
    let done: Task | undefined;
    for (let i = 0; i < 200 && !done; i++) {
      const t = await server.client.experimental.tasks.getTask(task.taskId);
      if (t.status !== 'working') done = t;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(done?.status).toBe('completed');
    const result = (await server.client.experimental.tasks.getTaskResult(
      task.taskId,
      CallToolResultSchema,
    )) as CallToolResult;
    expect(result.isError, text(result)).toBeFalsy();
    expect(sc(result)).toMatchObject({ job_id: task.taskId, status: 'succeeded' });
  });

  it('48 h past the limit it is failed for good, says where the late result is, and stays failed when the provider finishes', async () => {
    // A job the provider still has open, recorded 49 h ago in the server's own SQLite ledger.
    hostile.setStatus('processing');
    hostile.addJob('h-old', [`${hostile.url}/media/old.png`]);
    const store = await openStore({ stateDir });
    const created = Date.now() - 49 * 3_600_000;
    const id = `job_${created.toString(36)}0123456789abcdef`;
    try {
      await store.insertJob({
        id,
        provider: 'acme',
        tool: 'acme_image_create',
        providerJobId: 'h-old',
        argsHash: 'x',
        args: { prompt: 'an old boat' },
        price: 2,
        callerId: 'stdio:elsewhere',
        principal: 'local',
        status: 'running',
        providerStatus: 'processing',
        progress: null,
        outputs: [],
        error: null,
        polls: 1,
        createdAt: created,
        updatedAt: created,
        finishedAt: null,
        // The background worker gave it up 48 h past its limit (it polls nothing more on its own).
        nextPollAt: null,
      });
    } finally {
      await store.close();
    }
    const statusPath = '/image/status/h-old';
    const failed = await server.client.experimental.tasks.getTask(id);
    expect(failed.status).toBe('failed');
    expect(failed.statusMessage).toMatch(/^JOB_TIMEOUT: .*failed for good/);
    expect(failed.statusMessage).toContain(`jobs_get {"job_id":"${id}"}`);
    expect(failed.statusMessage).toContain('jobs_track');
    expect(hostile.hits(statusPath)).toBe(0); // given up: no poll is needed to answer

    const why = (await server.client.experimental.tasks.getTaskResult(id, CallToolResultSchema)) as CallToolResult;
    expect(why.isError).toBe(true);
    expect(text(why)).toMatch(/^JOB_TIMEOUT: .*jobs_get/);

    // The provider finishes it late: jobs_get shows the result, the task stays failed.
    hostile.setStatus('completed');
    const late = await server.call('jobs_get', { job_id: id });
    expect(sc(late)).toMatchObject({ status: 'succeeded' });
    expect(text(late)).toContain(`${hostile.url}/media/old.png`);
    const still = await server.client.experimental.tasks.getTask(id);
    expect(still.status).toBe('failed');
    const listed = (await server.client.experimental.tasks.listTasks()).tasks.find((t) => t.taskId === id);
    expect(listed?.status).toBe('failed');
  });
});

describe('refused task-augmented calls', () => {
  let sandbox: Sandbox;
  let server: StdioServer;
  beforeAll(async () => {
    sandbox = await startSandbox();
    server = await spawnStdio(phayaEnv(sandbox));
  });
  afterAll(async () => {
    await server?.close();
    await sandbox?.close();
  });

  it('are held at most 100 per principal, oldest dropped first; none reaches the provider', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      const t = await createTask(server.client, T2I, { prompt: 'x', aspect_ratio: `bad-${i}` });
      expect(t.status).toBe('failed');
      ids.push(t.taskId);
    }
    const held: string[] = [];
    for (const id of ids) {
      try {
        const t = await server.client.experimental.tasks.getTask(id);
        expect(t.statusMessage).toContain('BAD_ARGUMENTS');
        held.push(id);
      } catch (err) {
        expect(String(err)).toMatch(/not found/i);
      }
    }
    expect(held).toEqual(ids.slice(50));
    expect(sandbox.stats().total).toBe(0);
  });
});

describe('refused task-augmented calls over HTTP, many principals', () => {
  it('are held at most 1,000 in all: past that the oldest, whoever made it, is dropped first', async () => {
    const sandbox = await startSandbox();
    const dir = tempDir();
    const names = Array.from({ length: 11 }, (_, i) => `p${i}`);
    const t = writeTokens(dir, Object.fromEntries(names.map((n) => [n, {}])));
    const http = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir }), ['--tokens-file', t.file]);
    const clients = await Promise.all(names.map((n) => connectHttp(http.url, t.tokens[n])));
    try {
      const ids: string[][] = [];
      for (const c of clients) {
        const mine: string[] = [];
        for (let i = 0; i < 100; i++)
          mine.push((await createTask(c.client, T2I, { prompt: 'x', aspect_ratio: `bad-${i}` })).taskId);
        ids.push(mine);
      }
      const held = async (c: (typeof clients)[number], id: string): Promise<boolean> =>
        c.client.experimental.tasks.getTask(id).then(
          () => true,
          () => false,
        );
      // 1,100 refusals against a cap of 1,000: the first principal's 100 (the oldest) are gone.
      for (const id of ids[0].slice(0, 10)) expect(await held(clients[0], id)).toBe(false);
      for (const id of ids[1].slice(0, 10)) expect(await held(clients[1], id)).toBe(true);
      for (const id of ids[10].slice(-10)) expect(await held(clients[10], id)).toBe(true);
      expect(sandbox.stats().total).toBe(0);
    } finally {
      for (const c of clients) await c.close();
      await http.stop();
      await sandbox.close();
    }
  }, 120_000);
});

describe('tasks/get and tasks/result', () => {
  let slow: Sandbox;
  let server: StdioServer;
  const POLL_MS = 300;
  beforeAll(async () => {
    slow = await startSandbox({ pollsToComplete: 100_000 });
    server = await spawnStdio(phayaEnv(slow, { MEDIAGEN_POLL_MS: String(POLL_MS) }));
  });
  afterAll(async () => {
    await server?.close();
    await slow?.close();
  });

  it('poll the provider at most once per suggested interval, however often they are asked', async () => {
    const task = await createTask(server.client, T2I, { prompt: 'a slow lantern' });
    expect(task.pollInterval).toBe(POLL_MS);
    // tasks/result blocks (the SDK loop asks for the status twice per interval) while the client also
    // polls tasks/get six times faster than suggested.
    const waiting = server.client.experimental.tasks
      .getTaskResult(task.taskId, CallToolResultSchema, { timeout: 3_000 })
      .catch((e: unknown) => e);
    let gets = 0;
    let settled = false;
    void waiting.then(() => (settled = true));
    while (!settled && gets < 120) {
      expect((await server.client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
      gets++;
      await new Promise((r) => setTimeout(r, POLL_MS / 6));
    }
    expect(String(await waiting)).toMatch(/timed out|timeout/i);
    const jobs = sc(await server.call('jobs_list', {})).jobs as { job_id: string; provider_job_id: string }[];
    const providerId = jobs.find((j) => j.job_id === task.taskId)!.provider_job_id;
    const polls = slow
      .stats()
      .requests.filter((r) => r.method === 'GET' && r.path.includes(providerId))
      .map((r) => r.at);
    expect(gets).toBeGreaterThan(5);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    const gaps = polls.slice(1).map((at, i) => at - polls[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(POLL_MS - 5);
  });
});
