/**
 * MCP Tasks end to end with the SDK client's experimental task API: the built server over stdio (and
 * Streamable HTTP with two principals), the sandbox with its request counter, a real SQLite ledger.
 * create -> get -> result; consent first (token and elicitation); cancel at the provider; restart in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  ElicitRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { connectHttp, spawnHttp, writeTokens } from '../helpers/http-server.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const PHAYA_DEFAULT = 'https://api.phaya.io/api/v1';
let sandbox: Sandbox;
let slow: Sandbox;

const envFor = (sb: Sandbox, stateDir = tempDir()) => ({
  PHAYA_BASE: sb.baseUrl('phaya', PHAYA_DEFAULT),
  PHAYA_API_KEY: sb.key,
  MEDIAGEN_STATE_DIR: stateDir,
  MEDIAGEN_POLL_MS: '100',
});
const posts = (sb: Sandbox) => sb.stats().requests.filter((r) => r.method === 'POST').length;

type Msg = { type: string; task?: { taskId: string; status: string }; result?: unknown; error?: unknown };
async function stream(client: Client, name: string, args: Record<string, unknown>): Promise<Msg[]> {
  const out: Msg[] = [];
  for await (const m of client.experimental.tasks.callToolStream({ name, arguments: args }, CallToolResultSchema, {
    task: {},
  }))
    out.push(m as Msg);
  return out;
}

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 3 });
  slow = await startSandbox({ pollsToComplete: 100_000 });
});
afterAll(async () => {
  await sandbox?.close();
  await slow?.close();
});

describe('MCP Tasks over stdio', () => {
  let server: StdioServer;
  beforeAll(async () => {
    server = await spawnStdio(envFor(sandbox));
  });
  afterAll(async () => server?.close());

  it('declares taskSupport "optional" on job-creating tools only, and the tasks capability', async () => {
    const { tools } = await server.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('phaya_text_to_image')?.execution).toEqual({ taskSupport: 'optional' });
    expect(byName.get('phaya_user_credits')?.execution).toBeUndefined();
    expect(byName.get('jobs_wait')?.execution).toBeUndefined();
    expect(server.client.getServerCapabilities()?.tasks).toMatchObject({ list: {}, cancel: {} });
  });

  it("create -> get -> result: the task is the job, its result is jobs_wait's answer", async () => {
    const msgs = await stream(server.client, 'phaya_text_to_image', { prompt: 'a paper boat' });
    expect(msgs[0]).toMatchObject({ type: 'taskCreated', task: { status: 'working' } });
    const taskId = msgs[0].task!.taskId;
    expect(taskId).toMatch(/^job_/);
    expect(msgs.some((m) => m.type === 'taskStatus')).toBe(true);
    const last = msgs.at(-1)!;
    expect(last.type).toBe('result');
    const result = last.result as CallToolResult;
    expect(result.structuredContent).toMatchObject({ job_id: taskId, status: 'succeeded' });
    expect(result.content.some((c) => c.type === 'resource_link')).toBe(true);
    const viaJobs = await server.call('jobs_wait', { job_id: taskId });
    expect(viaJobs.structuredContent).toMatchObject({ job_id: taskId, outputs: result.structuredContent!.outputs });
    const got = await server.client.experimental.tasks.getTask(taskId);
    expect(got).toMatchObject({ taskId, status: 'completed', ttl: null });
    const listed = await server.client.experimental.tasks.listTasks();
    expect(listed.tasks.map((t) => t.taskId)).toContain(taskId);
  });

  it('consent comes first: without elicitation the task fails at once with CONFIRMATION_REQUIRED; the token then runs it', async () => {
    const before = posts(sandbox);
    const msgs = await stream(server.client, 'phaya_veo31_video', { prompt: 'a lighthouse at dusk' });
    const refused = msgs[0].task!;
    expect(refused.status).toBe('failed');
    expect(posts(sandbox)).toBe(before);
    const answer = (await server.client.experimental.tasks.getTaskResult(
      refused.taskId,
      CallToolResultSchema,
    )) as CallToolResult;
    expect(answer.isError).toBe(true);
    const token = (answer.structuredContent as { confirm_token: string }).confirm_token;
    expect(text(answer)).toContain('CONFIRMATION_REQUIRED');
    const run = await stream(server.client, 'phaya_veo31_video', {
      prompt: 'a lighthouse at dusk',
      confirm_token: token,
    });
    expect(run[0].task!.taskId).toMatch(/^job_/);
    expect(posts(sandbox)).toBe(before + 1);
  });

  it('a task-augmented call of a tool without task support is refused before it runs', async () => {
    const before = sandbox.stats().total;
    await expect(
      server.client.request(
        { method: 'tools/call', params: { name: 'phaya_user_credits', arguments: {}, task: {} } },
        CreateTaskResultSchema,
      ),
    ).rejects.toThrow(/does not run as a task/);
    expect(sandbox.stats().total).toBe(before);
  });

  it('plain tools/call of a task-capable tool works as before', async () => {
    const r = await server.call('phaya_text_to_image', { prompt: 'a plain call' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: expect.any(String), job_id: expect.stringMatching(/^job_/) });
  });
});

describe('MCP Tasks: consent by elicitation before the task exists', () => {
  it('a declined form makes a failed task and sends nothing; an approved one creates the job task', async () => {
    let approve = false;
    const server = await spawnStdio(envFor(sandbox), [], { capabilities: { elicitation: { form: {} } } });
    try {
      server.client.setRequestHandler(ElicitRequestSchema, () =>
        approve ? { action: 'accept', content: { approve: true } } : { action: 'decline' },
      );
      const before = posts(sandbox);
      const declined = await stream(server.client, 'phaya_veo31_video', { prompt: 'a red kite' });
      expect(declined[0].task!.status).toBe('failed');
      const why = (await server.client.experimental.tasks.getTaskResult(
        declined[0].task!.taskId,
        CallToolResultSchema,
      )) as CallToolResult;
      expect(text(why)).toContain('CONSENT_DECLINED');
      expect(posts(sandbox)).toBe(before);
      approve = true;
      const ok = await stream(server.client, 'phaya_veo31_video', { prompt: 'a red kite' });
      expect(ok[0].task!.taskId).toMatch(/^job_/);
      expect(posts(sandbox)).toBe(before + 1);
    } finally {
      await server.close();
    }
  });
});

describe('MCP Tasks: cancel and restart', () => {
  it('a task survives a server restart and is cancelled at the provider', async () => {
    const stateDir = tempDir();
    const first = await spawnStdio(envFor(slow, stateDir));
    let taskId: string;
    try {
      const created = await first.client.request(
        {
          method: 'tools/call',
          params: {
            name: 'phaya_seedance',
            arguments: { prompt: 'a slow river', resolution: '480p', duration: '4' },
            task: {},
          },
        },
        CreateTaskResultSchema,
      );
      taskId = created.task.taskId;
      expect(created.task.status).toBe('working');
    } finally {
      await first.close();
    }
    const second = await spawnStdio(envFor(slow, stateDir));
    try {
      const t = await second.client.experimental.tasks.getTask(taskId);
      expect(t).toMatchObject({ taskId, status: 'working' });
      expect(t.pollInterval).toBe(100);
      expect((await second.client.experimental.tasks.listTasks()).tasks.map((x) => x.taskId)).toContain(taskId);
      const cancelled = await second.client.experimental.tasks.cancelTask(taskId);
      expect(cancelled.status).toBe('cancelled');
      expect(slow.stats().requests.some((r) => r.method === 'POST' && r.path.includes('/cancel/'))).toBe(true);
      expect((await second.call('jobs_get', { job_id: taskId })).structuredContent).toMatchObject({
        status: 'cancelled',
      });
    } finally {
      await second.close();
    }
  });
});

describe('MCP Tasks over Streamable HTTP', () => {
  it("tasks/list and tasks/get show the caller's own tasks only", async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {}, bob: {} });
    const http = await spawnHttp({ ...envFor(sandbox, dir) }, ['--tokens-file', t.file]);
    const alice = await connectHttp(http.url, t.tokens.alice);
    const bob = await connectHttp(http.url, t.tokens.bob);
    try {
      await alice.client.listTools();
      const msgs = await stream(alice.client, 'phaya_text_to_image', { prompt: 'alice only' });
      const taskId = msgs[0].task!.taskId;
      expect(msgs.at(-1)!.type).toBe('result');
      expect((await alice.client.experimental.tasks.listTasks()).tasks.map((x) => x.taskId)).toContain(taskId);
      expect((await bob.client.experimental.tasks.listTasks()).tasks.map((x) => x.taskId)).not.toContain(taskId);
      await expect(bob.client.experimental.tasks.getTask(taskId)).rejects.toThrow(/not found/i);
      await expect(bob.client.experimental.tasks.cancelTask(taskId)).rejects.toThrow(/not found/i);
    } finally {
      await alice.close();
      await bob.close();
      await http.stop();
    }
  });
});

describe('MCP Tasks on two stateless replicas sharing one ledger', () => {
  it('a task created on one replica is polled, listed and fetched on the other', async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {} });
    const a = await spawnHttp(envFor(sandbox, dir), ['--tokens-file', t.file, '--stateless']);
    const b = await spawnHttp(envFor(sandbox, dir), ['--tokens-file', t.file, '--stateless']);
    const onA = await connectHttp(a.url, t.tokens.alice);
    const onB = await connectHttp(b.url, t.tokens.alice);
    try {
      const created = await onA.client.request(
        {
          method: 'tools/call',
          params: { name: 'phaya_text_to_image', arguments: { prompt: 'two replicas' }, task: {} },
        },
        CreateTaskResultSchema,
      );
      const taskId = created.task.taskId;
      expect((await onB.client.experimental.tasks.listTasks()).tasks.map((x) => x.taskId)).toContain(taskId);
      const result = (await onB.client.experimental.tasks.getTaskResult(
        taskId,
        CallToolResultSchema,
      )) as CallToolResult;
      expect(result.structuredContent).toMatchObject({ job_id: taskId, status: 'succeeded' });
      expect(await onB.client.experimental.tasks.getTask(taskId)).toMatchObject({ status: 'completed' });
    } finally {
      await onA.close();
      await onB.close();
      await a.stop();
      await b.stop();
    }
  });
});
