/** One tool of each Phaya family and every ph0ny operation, end to end over stdio against the sandbox. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
let server: StdioServer;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const IMG = 'https://example.com/face.png';
const VID = 'https://example.com/clip.mp4';
const AUD = 'https://example.com/voice.mp3';

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 3 });
  server = await spawnStdio({
    PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
    PHAYA_API_KEY: sandbox.key,
    PH0NY_BASE_URL: sandbox.baseUrl('ph0ny', 'https://persona-labsvoice-api-production.up.railway.app/v1'),
    PH0NY_API_KEY: sandbox.key,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_POLL_MS: '100',
    // this suite sends ~150 requests in a few seconds; Phaya's documented 60/min is tested in rate-limit.test.ts
    MEDIAGEN_RATE_LIMIT: 'phaya=off',
  });
});
afterAll(async () => {
  await server?.close();
  await sandbox?.close();
});
beforeEach(() => sandbox.reset());

/** Call a paid tool; when consent is needed, the person approves and the call is repeated with the token. */
async function create(tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const first = await server.call(tool, args);
  if (sc(first).code !== 'CONFIRMATION_REQUIRED') return first;
  return server.call(tool, { ...args, confirm_token: sc(first).confirm_token as string });
}

async function generate(tool: string, args: Record<string, unknown>) {
  const created = await create(tool, args);
  expect(created.isError, text(created)).toBeFalsy();
  const done = await server.call('jobs_wait', { job_id: sc(created).job_id as string });
  expect(done.isError, text(done)).toBeFalsy();
  expect(sc(done).status).toBe('succeeded');
  return sc(done).outputs as { url: string; kind: string; mime_type: string | null }[];
}

describe('Phaya families', () => {
  it.each<[string, string, Record<string, unknown>, string]>([
    ['image, UPPER-case words (Z-Image)', 'phaya_text_to_image', { prompt: 'a lantern' }, 'image'],
    [
      'Nano Banana, lower-case words, image_urls[]',
      'phaya_nano_banana',
      { prompt: 'a lantern', resolution: '2K' },
      'image',
    ],
    ['Seedream', 'phaya_seedream', { prompt: 'a lantern' }, 'image'],
    ['FFmpeg image-to-video', 'phaya_image_to_video', { image_url: IMG }, 'video'],
    [
      'Sora 2 text-to-video (string n_frames)',
      'phaya_sora2_text_to_video',
      { prompt: 'a lantern', n_frames: '15' },
      'video',
    ],
    ['Seedance with audio', 'phaya_seedance', { prompt: 'a lantern at dusk', generate_audio: true }, 'video'],
    ['Kling motion control', 'phaya_kling_motion_control', { input_urls: [IMG], video_urls: [VID] }, 'video'],
    ['Veo 3.1 (origin_url too)', 'phaya_veo31_video', { prompt: 'a lantern' }, 'video'],
    ['music (Suno, two tracks)', 'phaya_text_to_music', { prompt: 'a lantern song' }, 'audio'],
    ['speech (Gemini TTS)', 'phaya_text_to_speech', { prompt: 'Hello there' }, 'audio'],
    ['Thai subtitles', 'phaya_thai_subtitle', { media_url: VID }, 'video'],
    ['video download', 'phaya_video_download', { url: 'https://video.example.com/watch?v=1' }, 'file'],
  ])('%s: create -> job -> result', async (_family, tool, args, kind) => {
    const outputs = await generate(tool, args);
    expect(outputs.length).toBeGreaterThanOrEqual(1);
    expect(outputs[0].kind).toBe(kind);
    expect(outputs[0].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_media\//);
    const creates = sandbox.stats().requests.filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(1);
  });

  it('Sora 2 character: the result is an id', async () => {
    const outputs = await generate('phaya_sora2_character', { character_file_url: VID });
    expect(outputs[0].kind).toBe('id');
  });

  it('Phaya-GPT answers synchronously with the text and the charge', async () => {
    const r = await create('phaya_gpt_chat', { messages: [{ role: 'user', content: 'Say hi' }] });
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toMatch(/Charged: [\d.]+ credits\./);
    expect(sc(r)).toMatchObject({ model: 'Phaya-GPT', message: { role: 'assistant' } });
  });

  it('voices and the balance are free reads', async () => {
    expect((await server.call('phaya_tts_voices')).isError).toBeFalsy();
    const credits = await server.call('phaya_user_credits');
    expect(sc(credits)).toMatchObject({ credits_balance: 84.9, currency: 'THB' });
  });

  it('cancels a cancellable job at the provider', async () => {
    const created = await create('phaya_seedance', { prompt: 'a lantern to cancel' });
    const r = await server.call('jobs_cancel', { job_id: sc(created).job_id as string });
    expect(sc(r).status).toBe('cancelled');
    expect(sandbox.stats().requests.map((q) => q.path)).toContainEqual(
      expect.stringMatching(/\/seedance-video\/cancel\//),
    );
  });

  it.each([
    ['phaya_veo31_video', { prompt: 'a lantern' }],
    ['phaya_sora2_text_to_video', { prompt: 'a lantern' }],
    ['phaya_sora2_image_to_video', { prompt: 'a lantern', image_urls: [IMG] }],
  ])('%s without consent makes zero provider requests', async (tool, args) => {
    const r = await server.call(tool, args);
    expect(sc(r).code).toBe('CONFIRMATION_REQUIRED');
    expect(sandbox.stats().total).toBe(0);
  });

  it('a failing Phaya job -> JOB_FAILED with its error', async () => {
    const created = await create('phaya_text_to_image', { prompt: 'a lantern sandbox:fail' });
    const r = await server.call('jobs_wait', { job_id: sc(created).job_id as string });
    expect(sc(r)).toMatchObject({ code: 'JOB_FAILED', status: 'failed' });
  });
});

describe('ph0ny operations', () => {
  it.each<[string, Record<string, unknown>]>([
    ['ph0ny_video_generate', { prompt: 'a barista pulling an espresso', duration_seconds: 6 }],
    ['ph0ny_video_avatar', { image_url: IMG, audio_url: AUD }],
    ['ph0ny_video_avatar_tts', { image_url: IMG, text: 'Hello from the sandbox', voice_id: 'alloy' }],
    ['ph0ny_video_lipsync', { video_url: VID, audio_url: AUD }],
    ['ph0ny_video_dub', { video_url: VID, target_language: 'es' }],
  ])('%s: 202 VideoJob -> progress -> result.video_url', async (tool, args) => {
    const outputs = await generate(tool, args);
    expect(outputs).toEqual([expect.objectContaining({ kind: 'video', mime_type: 'video/mp4' })]);
  });

  it('reports ph0ny progress as a percentage', async () => {
    const created = await create('ph0ny_video_generate', { prompt: 'a slow pan' });
    const id = sc(created).job_id as string;
    await server.call('jobs_get', { job_id: id });
    const second = await server.call('jobs_get', { job_id: id });
    expect(sc(second).progress).toBeGreaterThan(1);
  });
});

describe('ph0ny account', () => {
  it('ph0ny_usage answers from the sandbox with the documented shape', async () => {
    const r = await server.call('ph0ny_usage');
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ credits: { used: 0, limit: 1000, remaining: 1000 }, requestCount: 0 });
  });
});
