import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { downloadsMp4, withSandbox, type Json } from '../helpers/sandbox-http.js';
import { call, PH0NY_BASE } from '../helpers/ph0ny-wire.js';

const ULID_ID = /^vj_[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_S = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const JOB_KEYS = [
  'id',
  'type',
  'status',
  'provider',
  'progress',
  'result',
  'error',
  'created_at',
  'completed_at',
  'owner_id',
];

/** The caller's own engine keys (BYOK engines need them; others ignore them). */
const BYOK = {
  'X-Provider-Key-HeyGen': 'hg-own-key',
  'X-Provider-Key-SyncLabs': 'sl-own-key',
  'X-Provider-Key-TwelveLabs': 'tl-own-key',
};

async function create(sb: Sandbox, op: string, body: Json): Promise<Json> {
  const a = await call(sb, 'POST', `/video/${op}`, body, sb.key, BYOK);
  expect(a.status).toBe(202);
  return a.body;
}

async function job(sb: Sandbox, id: unknown): Promise<Json> {
  const a = await call(sb, 'GET', `/video/${String(id)}`);
  expect(a.status).toBe(200);
  expect(Object.keys(a.body)).toEqual(JOB_KEYS);
  return a.body;
}

const MP4 = 'https://uploads.example.com/clip.mp4';

describe('sandbox: ph0ny Video API', () => {
  it('builds its base URL from the default base path', async () => {
    await withSandbox({}, async (sb) => {
      expect(sb.baseUrl('ph0ny', PH0NY_BASE)).toBe(`${sb.url}/ph0ny/v1`);
    });
  });

  it('answers generate with 202 and the seed VideoJob, then moves pending -> processing -> completed', async () => {
    await withSandbox({ pollsToComplete: 5 }, async (sb) => {
      const j = await create(sb, 'generate', {
        prompt: 'espresso',
        duration_seconds: 6,
        width: 1280,
        height: 720,
        provider: 'runway',
      });
      expect(Object.keys(j)).toEqual(['id', 'type', 'status', 'provider', 'created_at', 'owner_id']);
      expect(j).toMatchObject({ type: 'generate', status: 'pending', provider: 'runway' });
      expect(j.id).toMatch(ULID_ID);
      expect(j.created_at).toMatch(ISO_S);
      expect(j.owner_id).toMatch(/^user_/);
      const polls: Json[] = [];
      for (let i = 0; i < 5; i++) polls.push(await job(sb, j.id));
      expect(polls.map((p) => p.status)).toEqual(['pending', 'processing', 'processing', 'processing', 'completed']);
      const progress = polls.map((p) => p.progress as number);
      expect(progress).toEqual([0, 0.4, 0.6, 0.8, 1]);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]);
      expect(polls[3]).toMatchObject({ result: null, error: null, completed_at: null });
      const done = polls[4];
      expect(done.result).toEqual({
        video_url: expect.stringContaining('/_media/sample.mp4') as unknown,
        duration_seconds: 6,
        width: 1280,
        height: 720,
        provider: 'runway',
      });
      expect(done.error).toBeNull();
      expect(done.completed_at).toMatch(ISO_S);
      expect(done.created_at).toBe(j.created_at);
      expect(await downloadsMp4((done.result as Json).video_url)).toBe(true);
      expect(await job(sb, j.id)).toEqual(done); // stays done
    });
  });

  it('keeps the webhook_url a create carried on the job, answers nothing about it, and never calls it', async () => {
    let called = 0;
    const receiver = createServer((_req, res) => {
      called += 1;
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const hook = `http://127.0.0.1:${port}/hooks/abc`;
      const made = await create(sb, 'generate', { prompt: 'a wave', webhook_url: hook });
      expect(JSON.stringify(made)).not.toContain(hook);
      expect(sb.job('ph0ny', String(made.id))?.meta.webhookUrl).toBe(hook);
      const done = await job(sb, made.id);
      expect(done.status).toBe('completed');
      expect(JSON.stringify(done)).not.toContain(hook);
      const plain = await create(sb, 'generate', { prompt: 'no hook' });
      expect(sb.job('ph0ny', String(plain.id))?.meta.webhookUrl).toBeNull();
      // A copy: the sandbox's own record is not changed through it, and reading it counts no poll.
      const copy = sb.job('ph0ny', String(plain.id));
      if (copy) copy.meta.webhookUrl = 'changed';
      expect(sb.job('ph0ny', String(plain.id))?.meta.webhookUrl).toBeNull();
      expect(sb.job('ph0ny', String(plain.id))?.polls).toBe(0);
    });
    await new Promise<void>((r) => receiver.close(() => r()));
    expect(called).toBe(0);
  });

  it('fills generate defaults and resolves provider auto to an engine', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const j = await create(sb, 'generate', { prompt: 'x' });
      expect(j.provider).toBe('ltx-video');
      expect((await job(sb, j.id)).result).toMatchObject({
        duration_seconds: 5,
        width: 768,
        height: 512,
        provider: 'ltx-video',
      });
    });
  });

  it('runs avatar, lipsync and dub to a video, and analyze to an analysis of the requested tasks', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const bodies: [string, Json, string][] = [
        ['avatar', { image_url: 'https://x/h.jpg', audio_url: 'https://x/a.mp3', provider: 'heygen' }, 'heygen'],
        ['avatar', { image_url: 'https://x/h.jpg', text: 'hi', voice_id: 'rachel' }, 'hallo3'],
        ['lipsync', { video_url: MP4, audio_url: 'https://x/a.mp3' }, 'latentsync'],
        ['dub', { video_url: MP4, target_language: 'es-ES', lipsync_provider: 'sync-labs' }, 'sync-labs'],
      ];
      for (const [op, body, provider] of bodies) {
        const j = await create(sb, op, body);
        expect(j).toMatchObject({ type: op, status: 'pending', provider });
        const done = await job(sb, j.id);
        expect(done.status).toBe('completed');
        expect(await downloadsMp4((done.result as Json).video_url)).toBe(true);
      }
      const an = await create(sb, 'analyze', { video_url: MP4, tasks: ['transcribe', 'scenes'] });
      const result = (await job(sb, an.id)).result as Json;
      expect(Object.keys(result)).toEqual(['provider', 'transcript', 'scenes']);
      const all = (await job(sb, (await create(sb, 'analyze', { video_url: MP4 })).id)).result as Json;
      expect(Object.keys(all)).toEqual(['provider', 'transcript', 'scenes', 'embeddings']);
    });
  });

  it('refuses a BYOK engine without its X-Provider-Key-* header (400 byok_required) and creates nothing', async () => {
    await withSandbox({}, async (sb) => {
      const cases: [string, Json, string][] = [
        ['avatar', { image_url: 'https://x/h.jpg', audio_url: 'https://x/a.mp3', provider: 'heygen' }, 'heygen'],
        ['lipsync', { video_url: MP4, audio_url: 'https://x/a.mp3', provider: 'sync-labs' }, 'synclabs'],
        ['dub', { video_url: MP4, target_language: 'es-ES', lipsync_provider: 'sync-labs' }, 'synclabs'],
        ['analyze', { video_url: MP4, provider: 'twelve-labs' }, 'twelvelabs'],
      ];
      for (const [op, body, header] of cases) {
        const a = await call(sb, 'POST', `/video/${op}`, body);
        expect(a.status, op).toBe(400);
        expect(a.body).toMatchObject({ error: { code: 'byok_required', header: `x-provider-key-${header}` } });
      }
      expect(sb.stats().jobs).toBe(0);
      // Self-hosted engines need none.
      const ok = await call(sb, 'POST', '/video/lipsync', { video_url: MP4, audio_url: 'https://x/a.mp3' });
      expect(ok.status).toBe(202);
    });
  });

  it('validates the documented ranges with 400 and creates nothing', async () => {
    await withSandbox({}, async (sb) => {
      const bad: [string, unknown, string][] = [
        ['generate', { prompt: '' }, 'prompt'],
        ['generate', { prompt: 'x'.repeat(2001) }, 'prompt'],
        ['generate', { negative_prompt: 'x' }, 'prompt'],
        ['generate', { prompt: 'x', duration_seconds: 0 }, 'duration_seconds'],
        ['generate', { prompt: 'x', duration_seconds: 31 }, 'duration_seconds'],
        ['generate', { prompt: 'x', duration_seconds: '6' }, 'duration_seconds'],
        ['generate', { prompt: 'x', width: 255 }, 'width'],
        ['generate', { prompt: 'x', width: 1921 }, 'width'],
        ['generate', { prompt: 'x', width: 1280.5 }, 'width'],
        ['generate', { prompt: 'x', height: 1081 }, 'height'],
        ['generate', { prompt: 'x', fps: 7 }, 'fps'],
        ['generate', { prompt: 'x', fps: 61 }, 'fps'],
        ['generate', { prompt: 'x', webhook_url: 'not a url' }, 'webhook_url'],
        ['generate', [], 'body'],
        ['avatar', { image_url: 'https://x/h.jpg' }, 'audio_url'],
        ['avatar', { image_url: 'https://x/h.jpg', audio_url: 'https://x/a.mp3', provider: 'nope' }, 'provider'],
        ['lipsync', { video_url: MP4 }, 'audio_url'],
        ['dub', { video_url: MP4 }, 'target_language'],
        ['analyze', { video_url: MP4, tasks: [] }, 'tasks'],
      ];
      for (const [op, body, field] of bad) {
        const a = await call(sb, 'POST', `/video/${op}`, body);
        expect(a.status, `${op} ${JSON.stringify(body).slice(0, 60)}`).toBe(400);
        expect(a.body).toEqual({ error: { code: 'validation_error', message: expect.any(String) as unknown, field } });
      }
      const ok = await call(sb, 'POST', '/video/generate', {
        prompt: 'x',
        duration_seconds: 1.5,
        width: 1920,
        height: 1080,
        fps: 60,
      });
      expect(ok.status).toBe(202);
      const json = await call(sb, 'POST', '/video/generate', '{"prompt": ');
      expect(json.status).toBe(400);
      expect((json.body.error as Json).code).toBe('invalid_json');
      expect(sb.stats().jobs).toBe(1);
    });
  });

  it('answers a bad key with 401, unknown jobs and routes with 404', async () => {
    await withSandbox({}, async (sb) => {
      const none = await call(sb, 'POST', '/video/generate', { prompt: 'x' }, null);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ error: { code: 'unauthorized', message: 'Invalid or missing API key' } });
      expect((await call(sb, 'GET', '/video/vj_x', undefined, 'bad')).status).toBe(401);
      const nf = await call(sb, 'GET', '/video/vj_01HMNOTAJOB0000000000000000');
      expect(nf.status).toBe(404);
      expect((nf.body.error as Json).code).toBe('not_found');
      expect((await call(sb, 'POST', '/video/render', { prompt: 'x' })).status).toBe(404);
      expect((await call(sb, 'DELETE', '/video/vj_x')).status).toBe(404);
      expect(sb.stats().jobs).toBe(0);
    });
  });
});
