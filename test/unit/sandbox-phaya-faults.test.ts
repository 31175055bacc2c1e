import { describe, it, expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { expectCounts, expectResetEmpty, withSandbox, type Json } from '../helpers/sandbox-http.js';
import { callRoot as call, createJob, T2I } from '../helpers/phaya-wire.js';

/** Create a job by its path from the host root (HTTP 200) and return its job_id. */
function jobId(sb: Sandbox, path: string, body: Json): Promise<string> {
  return createJob(sb, path, body, call);
}

describe('sandbox: Phaya scripted faults', () => {
  it('sandbox:fail ends the job FAILED / failed with an error; sandbox:timeout does the same (no timeout word)', async () => {
    await withSandbox({ pollsToComplete: 2 }, async (sb) => {
      const up = await jobId(sb, T2I, { prompt: 'a sandbox:fail b' });
      expect(await call(sb, 'GET', `/api/v1/text-to-image/status/${up}`).then((a) => a.body)).toEqual({
        status: 'PENDING',
      });
      const failed = (await call(sb, 'GET', `/api/v1/text-to-image/status/${up}`)).body;
      expect(failed).toEqual({ status: 'FAILED', error: expect.stringMatching(/failed/) as unknown });
      const low = await jobId(sb, '/api/v1/veo31-video/create', { prompt: 'sandbox:timeout' });
      await call(sb, 'GET', `/api/v1/veo31-video/status/${low}`);
      expect((await call(sb, 'GET', `/api/v1/veo31-video/status/${low}`)).body).toMatchObject({ status: 'failed' });
    });
  });

  it('sandbox:429 -> 429 + Retry-After; sandbox:5xx/503 -> 503 HTML; sandbox:credits -> 402; badparams -> 422; no job', async () => {
    await withSandbox({}, async (sb) => {
      const rl = await call(sb, 'POST', T2I, { prompt: 'sandbox:429' });
      expect(rl.status).toBe(429);
      expect(rl.headers.get('retry-after')).toBe('1');
      expect(rl.body).toEqual({ detail: 'Rate limit exceeded: 60 per 1 minute' });
      for (const m of ['sandbox:5xx', 'sandbox:503']) {
        const a = await call(sb, 'POST', T2I, { prompt: m });
        expect(a.status).toBe(503);
        expect(a.headers.get('content-type')).toMatch(/^text\/html/);
      }
      const cr = await call(sb, 'POST', T2I, { prompt: 'sandbox:credits' });
      expect(cr.status).toBe(402);
      expect(cr.body).toEqual({ detail: 'Insufficient credits' });
      const bp = await call(sb, 'POST', T2I, { prompt: 'sandbox:badparams' });
      expect(bp.status).toBe(422);
      expect((bp.body.detail as Json[])[0].type).toBe('value_error');
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('sandbox:slow stalls the create by slowMs, then makes the job', async () => {
    await withSandbox({ slowMs: 250 }, async (sb) => {
      const t0 = Date.now();
      await jobId(sb, '/api/v1/sora2-text-to-video/create', { prompt: 'sandbox:slow' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(230);
      expect(sb.stats().jobs).toBe(1);
    });
  });

  it('reads markers from the prompt only where there is one, else from any string field', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      // Seedream has a prompt: a marker in image_urls is just a URL.
      const sd = await jobId(sb, '/api/v1/seedream/create', {
        prompt: 'ok',
        image_urls: ['https://x/sandbox:fail.png'],
      });
      expect((await call(sb, 'GET', `/api/v1/seedream/status/${sd}`)).body.status).toBe('completed');
      // Video download has no prompt: its url carries the marker.
      const dl = await jobId(sb, '/api/v1/video-download/create', { url: 'https://youtu.be/x?sandbox:fail' });
      expect((await call(sb, 'GET', `/api/v1/video-download/status/${dl}`)).body.status).toBe('failed');
      const sub = await call(sb, 'POST', '/api/v1/thai-subtitle/generate', {
        media_url: 'https://x/a.mp4',
        script: 'sandbox:credits',
      });
      expect(sub.status).toBe(402);
      const ch = await call(sb, 'POST', '/api/v1/sora2-character/create', {
        character_file_url: 'https://x/a.mp4',
        character_prompt: 'sandbox:429',
      });
      expect(ch.status).toBe(429);
    });
  });

  it('plays faults on the synchronous routes too (chat, embeddings, proxy)', async () => {
    await withSandbox({}, async (sb) => {
      const msg = (content: string): Json => ({ messages: [{ role: 'user', content }] });
      const fail = await call(sb, 'POST', '/api/v1/phaya-gpt/chat/completions', msg('sandbox:fail'));
      expect(fail.status).toBe(502);
      expect(fail.body.detail).toMatch(/Upstream/);
      expect((await call(sb, 'POST', '/api/v1/embedding/create', { input: 'sandbox:credits' })).status).toBe(402);
      const proxy = await call(sb, 'POST', '/v1/chat/completions', msg('sandbox:429'));
      expect(proxy.status).toBe(429);
      expect(proxy.body.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' });
      expect((await call(sb, 'POST', '/v1/responses', { input: 'sandbox:5xx' })).status).toBe(503);
    });
  });
});

describe('sandbox: Phaya request counting', () => {
  it('counts every Phaya request by route template; reset() zeroes counters and forgets jobs', async () => {
    await withSandbox({ pollsToComplete: 2 }, async (sb) => {
      const id = await jobId(sb, T2I, { prompt: 'x' });
      await call(sb, 'GET', `/api/v1/text-to-image/status/${id}`);
      const done = await call(sb, 'GET', `/api/v1/text-to-image/status/${id}`);
      await fetch(done.body.image_url as string); // media downloads are not provider requests
      await fetch(`${sb.url}/phaya/api/v1/text-to-speech/voices`);
      await call(sb, 'GET', '/v1/models');
      await call(sb, 'GET', '/api/v1/nope');
      const s = expectCounts(sb, {
        total: 6,
        byProvider: { phaya: 6 },
        byRoute: {
          'phaya POST /api/v1/text-to-image/generate': 1,
          'phaya GET /api/v1/text-to-image/status/{job_id}': 2,
          'phaya GET /api/v1/text-to-speech/voices': 1,
          'phaya GET /v1/models': 1,
          'phaya GET (unmatched)': 1,
        },
      });
      expect(s.requests[0]).toMatchObject({
        provider: 'phaya',
        method: 'POST',
        path: `/phaya${T2I}`,
        body: { prompt: 'x' },
      });
      expect(s.requests.map((r) => r.authorized)).toEqual([true, true, true, false, true, true]);
      expect(s.jobs).toBe(1);
      expectResetEmpty(sb);
      expect((await call(sb, 'GET', `/api/v1/text-to-image/status/${id}`)).status).toBe(404);
    });
  });
});
