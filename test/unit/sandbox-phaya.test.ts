import { describe, it, expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { mediaKind, UUID, withSandbox, type Json } from '../helpers/sandbox-http.js';
import { callApi as call, postJob, status } from '../helpers/phaya-wire.js';

/** Create a job: HTTP 200 with exactly {"job_id": <UUID>}. */
async function create(sb: Sandbox, path: string, body: Json): Promise<string> {
  const a = await postJob(sb, path, body);
  expect(Object.keys(a.body)).toEqual(['job_id']);
  expect(a.body.job_id).toMatch(UUID);
  return a.body.job_id as string;
}

interface Case {
  svc: string;
  verb: 'create' | 'generate';
  body: Json;
  words: string[];
  /** Result fields besides `status`, and the format each URL downloads as. */
  fields: Record<string, string>;
}

const LOWER = ['processing', 'processing', 'processing', 'completed'];
const IMG = 'https://example.com/a.png';
const VID = 'https://example.com/a.mp4';
const CASES: Case[] = [
  {
    svc: 'text-to-image',
    verb: 'generate',
    body: { prompt: 'a city' },
    words: ['PENDING', 'QUEUED', 'PROCESSING', 'COMPLETED'],
    fields: { image_url: 'png' },
  },
  { svc: 'seedream', verb: 'create', body: { prompt: 'a city' }, words: LOWER, fields: { image_url: 'png' } },
  {
    svc: 'nano-banana',
    verb: 'create',
    body: { prompt: 'a banana', resolution: '2K' },
    words: LOWER,
    fields: { image_url: 'png', image_urls: 'png' },
  },
  {
    svc: 'image-to-video',
    verb: 'create',
    body: { image_url: IMG, duration: 5 },
    words: LOWER,
    fields: { video_url: 'mp4' },
  },
  {
    svc: 'sora2-video',
    verb: 'create',
    body: { prompt: 'p', image_urls: [IMG], n_frames: '15' },
    words: LOWER,
    fields: { video_url: 'mp4' },
  },
  {
    svc: 'sora2-text-to-video',
    verb: 'create',
    body: { prompt: 'p', n_frames: '10' },
    words: LOWER,
    fields: { video_url: 'mp4' },
  },
  {
    svc: 'sora2-character',
    verb: 'create',
    body: { character_file_url: VID },
    words: LOWER,
    fields: { character_id: 'id' },
  },
  {
    svc: 'seedance-video',
    verb: 'create',
    body: { prompt: 'a dancer', duration: '4', generate_audio: true },
    words: LOWER,
    fields: { video_url: 'mp4', audio_url: 'wav' },
  },
  { svc: 'seedance-video', verb: 'create', body: { prompt: 'a dancer' }, words: LOWER, fields: { video_url: 'mp4' } },
  {
    svc: 'kling-motion-control',
    verb: 'create',
    body: { input_urls: [IMG], video_urls: [VID] },
    words: LOWER,
    fields: { video_url: 'mp4' },
  },
  {
    svc: 'veo31-video',
    verb: 'create',
    body: { prompt: 'p', model: 'veo3', seeds: 12345 },
    words: LOWER,
    fields: { video_url: 'mp4', origin_url: 'mp4', resolution: '1080p' },
  },
  {
    svc: 'text-to-music',
    verb: 'generate',
    body: { prompt: 'lofi', instrumental: true },
    words: ['PENDING', 'QUEUED', 'PROCESSING', 'COMPLETED'],
    fields: { audio_url: 'wav', audio_urls: 'wav' },
  },
  {
    svc: 'text-to-speech',
    verb: 'generate',
    body: { prompt: 'สวัสดี', voice: 'Kore', language: 'th' },
    words: ['PENDING', 'PROCESSING', 'PROCESSING', 'COMPLETED'],
    fields: { audio_url: 'wav' },
  },
  {
    svc: 'thai-subtitle',
    verb: 'generate',
    body: { media_url: VID, timing_offset_ms: -300 },
    words: ['PENDING', 'PROCESSING', 'PROCESSING', 'COMPLETED'],
    fields: { video_url: 'mp4' },
  },
  {
    svc: 'video-download',
    verb: 'create',
    body: { url: 'https://youtu.be/x' },
    words: LOWER,
    fields: { download_url: 'mp4' },
  },
  {
    svc: 'video-download',
    verb: 'create',
    body: { url: 'https://youtu.be/x', format: 'mp3' },
    words: LOWER,
    fields: { download_url: 'wav' },
  },
];

describe('sandbox: Phaya job services', () => {
  it.each(CASES.map((c, i) => [`${c.svc} #${i}`, c] as const))(
    '%s: create -> status words -> result that downloads',
    async (_name, c) => {
      await withSandbox({ pollsToComplete: 4 }, async (sb) => {
        const id = await create(sb, `/${c.svc}/${c.verb}`, c.body);
        const seen: string[] = [];
        let last: Json = {};
        for (const word of c.words) {
          last = await status(sb, c.svc, id);
          seen.push(last.status as string);
          if (word !== c.words[c.words.length - 1]) expect(Object.keys(last)).toEqual(['status']);
        }
        expect(seen).toEqual(c.words);
        expect(Object.keys(last).sort()).toEqual(['status', ...Object.keys(c.fields)].sort());
        for (const [field, kind] of Object.entries(c.fields)) {
          const v = last[field];
          if (kind === 'id') expect(v).toMatch(/^char_[0-9a-f]{16}$/);
          else if (kind === '1080p') expect(v).toBe('1080p');
          else if (Array.isArray(v)) for (const u of v) expect(await mediaKind(u)).toBe(kind);
          else expect(await mediaKind(v)).toBe(kind);
        }
        expect(await status(sb, c.svc, id)).toEqual(last); // stays done
      });
    },
  );

  it('reflects inputs: Nano Banana yields one image_urls entry, music two tracks, Veo 9:16 is 720p', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const nb = await status(sb, 'nano-banana', await create(sb, '/nano-banana/create', { prompt: 'x' }));
      expect(nb.image_urls).toEqual([nb.image_url]);
      const mu = await status(sb, 'text-to-music', await create(sb, '/text-to-music/generate', { prompt: 'x' }));
      expect(mu.audio_urls).toHaveLength(2);
      expect((mu.audio_urls as string[])[0]).toBe(mu.audio_url);
      expect(new Set(mu.audio_urls as string[]).size).toBe(2);
      const veo = await status(
        sb,
        'veo31-video',
        await create(sb, '/veo31-video/create', { prompt: 'x', aspect_ratio: '9:16' }),
      );
      expect(veo.resolution).toBe('720p');
      expect(veo.origin_url).not.toBe(veo.video_url);
    });
  });

  it('runs the FFmpeg media ops as lower-case jobs under /media/status, and answers upload and queue stats', async () => {
    await withSandbox({ pollsToComplete: 2 }, async (sb) => {
      const merge = await create(sb, '/media/merge-video', { video_urls: [VID, VID] });
      const tr = await create(sb, '/media/transcribe', { media_url: VID });
      expect(await status(sb, 'media', merge)).toEqual({ status: 'processing' });
      const done = await status(sb, 'media', merge);
      expect(done.status).toBe('completed');
      expect(await mediaKind(done.video_url)).toBe('mp4');
      await status(sb, 'media', tr);
      expect(Object.keys(await status(sb, 'media', tr))).toEqual(['status', 'text']);
      expect((await call(sb, 'GET', `/media/status/${merge}x`)).status).toBe(404);
      const q = await call(sb, 'GET', '/media/queue/stats');
      expect(q.body).toEqual({ success: true, queue: { processing: 0, completed: 2, failed: 0 } });
      const up = await call(sb, 'POST', '/media/upload', 'not json at all');
      expect(up.status).toBe(200);
      expect(await mediaKind(up.body.url)).toBe('png');
    });
  });

  it('lists finished Sora 2 characters', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      expect((await call(sb, 'GET', '/sora2-character/list')).body).toEqual({
        success: true,
        characters: [],
        total: 0,
      });
      const id = await create(sb, '/sora2-character/create', { character_file_url: VID, character_prompt: 'a knight' });
      const { character_id } = await status(sb, 'sora2-character', id);
      const list = await call(sb, 'GET', '/sora2-character/list');
      expect(list.body.characters).toEqual([
        { character_id, job_id: id, character_prompt: 'a knight', created_at: expect.any(String) as unknown },
      ]);
    });
  });
});
