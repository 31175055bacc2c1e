import { describe, it, expect } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import { withSandbox } from '../helpers/sandbox-http.js';
import { MEDIAIO_BASE, createTask, env, poll, post } from '../helpers/mediaio-wire.js';

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
      const pending = fetch(`${sb.baseUrl('mediaio', MEDIAIO_BASE)}${create}`, {
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
