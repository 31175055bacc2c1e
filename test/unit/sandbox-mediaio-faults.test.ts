import { describe, it, expect } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

interface Envelope {
  code: number;
  msg: string;
  data: Record<string, unknown>;
  trace_id: string;
}
interface TaskData {
  task_id: string;
  status: string;
  reason: string;
  result: { val: string; preview: string; status: number }[];
}
interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function withSandbox(opts: SandboxOptions, fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await startSandbox(opts);
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

/** POST to a Media.io route of the sandbox with a raw body. */
async function post(sb: Sandbox, path: string, body: string, key: string | null = sb.key): Promise<Answer> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== null) headers['X-API-KEY'] = key;
  const res = await fetch(`${sb.baseUrl('mediaio', 'https://openapi.media.io')}${path}`, {
    method: 'POST',
    headers,
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function env(sb: Sandbox, path: string, body: unknown = {}, key: string | null = sb.key): Promise<Envelope> {
  const a = await post(sb, path, JSON.stringify(body), key);
  expect(a.status).toBe(200);
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  const e = JSON.parse(a.text) as Envelope;
  expect(e.trace_id).toMatch(UUID);
  return e;
}

async function createTask(sb: Sandbox, model: string, data: Record<string, unknown>): Promise<string> {
  const e = await env(sb, `/generation/${model}`, { data });
  expect(e).toMatchObject({ code: 0, msg: '' });
  const id = e.data.task_id;
  expect(typeof id).toBe('string');
  expect(id).toMatch(/^mio-[0-9a-f]+$/);
  return id as string;
}

async function poll(sb: Sandbox, taskId: string): Promise<TaskData> {
  const e = await env(sb, `/generation/result/${taskId}`);
  expect(e.code).toBe(0);
  return e.data as unknown as TaskData;
}

describe('sandbox: Media.io scripted faults', () => {
  const create = '/generation/veo/i2v-veo-v3-1';
  const data = (prompt: string): { data: Record<string, string> } => ({
    data: { image: 'https://example.com/a.png', prompt },
  });

  it('sandbox:fail -> the task ends failed with a reason', async () => {
    await withSandbox({ pollsToComplete: 2 }, async (sb) => {
      const id = await createTask(sb, 'veo/i2v-veo-v3-1', data('a dog sandbox:fail please').data);
      expect((await poll(sb, id)).status).toBe('waiting');
      expect(await poll(sb, id)).toEqual({
        task_id: id,
        status: 'failed',
        reason: 'sandbox: generation failed (content policy)',
        result: [],
      });
    });
  });

  it('sandbox:timeout -> the task ends with status timeout', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const id = await createTask(sb, 'veo/i2v-veo-v3-1', data('sandbox:timeout').data);
      const p = await poll(sb, id);
      expect(p.status).toBe('timeout');
      expect(p.result).toEqual([]);
      expect(p.reason).not.toBe('');
    });
  });

  it('sandbox:429 -> HTTP 429 with Retry-After: 1 and no task', async () => {
    await withSandbox({}, async (sb) => {
      const a = await post(sb, create, JSON.stringify(data('sandbox:429')));
      expect(a.status).toBe(429);
      expect(a.headers.get('retry-after')).toBe('1');
      expect(JSON.parse(a.text)).toMatchObject({ code: 429, msg: 'Too Many Requests', data: {} });
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('sandbox:5xx and sandbox:503 -> HTTP 503 text/html and no task', async () => {
    await withSandbox({}, async (sb) => {
      for (const marker of ['sandbox:5xx', 'SANDBOX:503']) {
        const a = await post(sb, create, JSON.stringify(data(`x ${marker}`)));
        expect(a.status).toBe(503);
        expect(a.headers.get('content-type')).toMatch(/^text\/html/);
        expect(a.text).toContain('503');
      }
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('sandbox:credits -> 490505 and sandbox:badparams -> 490000, no task', async () => {
    await withSandbox({}, async (sb) => {
      expect(await env(sb, create, data('sandbox:credits'))).toMatchObject({
        code: 490505,
        msg: 'Insufficient credits',
        data: {},
      });
      const bp = await env(sb, create, data('sandbox:badparams'));
      expect(bp.code).toBe(490000);
      expect(bp.msg).toMatch(/^params error/);
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('sandbox:slow -> the answer is stalled by slowMs, then a task is created', async () => {
    await withSandbox({ slowMs: 300 }, async (sb) => {
      const t0 = Date.now();
      const e = await env(sb, create, data('sandbox:slow'));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
      expect(e.code).toBe(0);
      expect(sb.stats().jobs).toBe(1);
    });
  });

  it('sandbox:slow -> a client that gives up leaves no task behind, but its request is counted', async () => {
    await withSandbox({ slowMs: 400 }, async (sb) => {
      const ac = new AbortController();
      const pending = fetch(`${sb.baseUrl('mediaio', 'https://openapi.media.io')}${create}`, {
        method: 'POST',
        headers: { 'X-API-KEY': sb.key, 'Content-Type': 'application/json' },
        body: JSON.stringify(data('sandbox:slow')),
        signal: ac.signal,
      });
      setTimeout(() => ac.abort(), 100);
      await expect(pending).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 500));
      const s = sb.stats();
      expect(s.total).toBe(1);
      expect(s.jobs).toBe(0);
    });
  });

  it('close() cuts a stalled slow request', async () => {
    const sb = await startSandbox({}); // default slowMs 15000
    const pending = post(sb, create, JSON.stringify(data('sandbox:slow')));
    pending.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await sb.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
    expect(sb.stats().jobs).toBe(0);
  });
});
