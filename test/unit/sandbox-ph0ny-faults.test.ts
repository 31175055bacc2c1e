import { describe, it, expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { expectCounts, expectResetEmpty, withSandbox, type Json } from '../helpers/sandbox-http.js';
import { call } from '../helpers/ph0ny-wire.js';

async function finalJob(sb: Sandbox, op: string, body: Json): Promise<Json> {
  const created = await call(sb, 'POST', `/video/${op}`, body);
  expect(created.status).toBe(202);
  let last: Json = {};
  for (let i = 0; i < 3; i++) last = (await call(sb, 'GET', `/video/${String(created.body.id)}`)).body;
  return last;
}

describe('sandbox: ph0ny scripted faults', () => {
  it('sandbox:fail -> failed with error {code, message}; sandbox:timeout -> failed with provider_timeout', async () => {
    await withSandbox({}, async (sb) => {
      const failed = await finalJob(sb, 'generate', { prompt: 'a sandbox:fail b' });
      expect(failed).toMatchObject({
        status: 'failed',
        result: null,
        error: { code: 'provider_error', message: expect.any(String) as unknown },
      });
      expect(failed.progress).toBeLessThan(1);
      expect(failed.completed_at).toEqual(expect.any(String));
      const timeout = await finalJob(sb, 'generate', { prompt: 'sandbox:timeout' });
      expect(timeout).toMatchObject({ status: 'failed', error: { code: 'provider_timeout' } });
    });
  });

  it('sandbox:429 -> 429 + Retry-After; 5xx/503 -> 503 HTML; credits -> 402; badparams -> 400; no job', async () => {
    await withSandbox({}, async (sb) => {
      const rl = await call(sb, 'POST', '/video/generate', { prompt: 'sandbox:429' });
      expect(rl.status).toBe(429);
      expect(rl.headers.get('retry-after')).toBe('1');
      expect(rl.body).toEqual({ error: { code: 'rate_limited', message: 'Too many requests' } });
      for (const m of ['sandbox:5xx', 'sandbox:503']) {
        const a = await call(sb, 'POST', '/video/generate', { prompt: m });
        expect(a.status).toBe(503);
        expect(a.headers.get('content-type')).toMatch(/^text\/html/);
      }
      const cr = await call(sb, 'POST', '/video/generate', { prompt: 'sandbox:credits' });
      expect(cr.status).toBe(402);
      expect(cr.body).toEqual({ error: { code: 'insufficient_credits', message: 'Insufficient credits' } });
      expect((await call(sb, 'POST', '/video/generate', { prompt: 'sandbox:badparams' })).status).toBe(400);
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('sandbox:slow stalls the 202 by slowMs', async () => {
    await withSandbox({ slowMs: 250 }, async (sb) => {
      const t0 = Date.now();
      expect((await call(sb, 'POST', '/video/generate', { prompt: 'sandbox:slow' })).status).toBe(202);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(230);
    });
  });

  it("reads markers only from generate's prompt, and from any string field of the other operations", async () => {
    await withSandbox({}, async (sb) => {
      const ok = await finalJob(sb, 'generate', { prompt: 'fine', negative_prompt: 'sandbox:fail' });
      expect(ok.status).toBe('completed');
      const ls = await finalJob(sb, 'lipsync', {
        video_url: 'https://x/a.mp4',
        audio_url: 'https://x/sandbox:fail.mp3',
      });
      expect(ls.status).toBe('failed');
      const av = await call(sb, 'POST', '/video/avatar', {
        image_url: 'https://x/h.jpg',
        text: 'hello sandbox:credits',
        voice_id: 'rachel',
      });
      expect(av.status).toBe(402);
      const an = await call(sb, 'POST', '/video/analyze', { video_url: 'https://x/a.mp4', tasks: ['sandbox:429'] });
      expect(an.status).toBe(429);
    });
  });
});

describe('sandbox: ph0ny request counting', () => {
  it('counts ph0ny requests by route; reset() zeroes counters and forgets jobs', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const j = await call(sb, 'POST', '/video/generate', { prompt: 'x' });
      const done = await call(sb, 'GET', `/video/${String(j.body.id)}`);
      await fetch(String((done.body.result as Json).video_url)); // not counted
      await call(sb, 'POST', '/video/dub', { video_url: 'https://x/a.mp4', target_language: 'th' });
      await call(sb, 'GET', '/nope');
      const s = expectCounts(sb, {
        total: 4,
        byProvider: { ph0ny: 4 },
        byRoute: {
          'ph0ny POST /v1/video/generate': 1,
          'ph0ny GET /v1/video/{jobId}': 1,
          'ph0ny POST /v1/video/dub': 1,
          'ph0ny GET (unmatched)': 1,
        },
      });
      expect(s.requests[0]).toMatchObject({
        path: '/ph0ny/v1/video/generate',
        authorized: true,
        body: { prompt: 'x' },
      });
      expect(s.jobs).toBe(2);
      expectResetEmpty(sb);
      expect((await call(sb, 'GET', `/video/${String(j.body.id)}`)).status).toBe(404);
    });
  });
});
