/**
 * Inline previews over stdio against the real sandbox: a succeeded job's images (PNG, JPEG, WebP), a
 * video's cover and short audio come back as image / audio blocks within their caps; a bomb, a truncated
 * file and audio over the caps get a note and no block, and the job still succeeds; a result with many
 * large outputs stays within 900 KB; `--previews off` gives none; thumbnails are cached beside the kept copy.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import { runPiped } from '../helpers/terminal.js';

type Block = { type: string; data?: string; mimeType?: string };
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const blocks = (r: CallToolResult, type: string) => (r.content as Block[]).filter((c) => c.type === type);
const outputsOf = (r: CallToolResult) => sc(r).outputs as Record<string, unknown>[];

let sandbox: Sandbox;
let server: StdioServer;
let off: StdioServer;
let outDir: string;

function env(s: Sandbox, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MEDIAIO_BASE_URL: s.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: s.key,
    PHAYA_BASE: s.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
    PHAYA_API_KEY: s.key,
    MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    MEDIAGEN_POLL_MS: '50',
    MEDIAGEN_RATE_LIMIT: 'phaya=off',
    MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
    MEDIAGEN_STATE_DIR: tempDir(),
    ...extra,
  };
}

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
  outDir = tempDir();
  server = await spawnStdio(env(sandbox, { MEDIAGEN_OUTPUT_DIR: outDir }), ['--keep-outputs']);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await off?.close();
  await sandbox?.close();
});

/** Create (approving when asked) and wait for the job; returns jobs_wait's result. */
async function run(s: StdioServer, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  let created = await s.call(tool, args);
  if (sc(created).code === 'CONFIRMATION_REQUIRED')
    created = await s.call(tool, { ...args, confirm_token: sc(created).confirm_token as string });
  expect(created.isError, text(created)).toBeFalsy();
  const done = await s.call('jobs_wait', { job_id: sc(created).job_id as string });
  expect(done.isError, text(done)).toBeFalsy();
  expect(sc(done).status).toBe('succeeded');
  return done;
}

/** Decode an image block as the JPEG it says it is, within the caps. */
function decoded(b: Block): { width: number; height: number } {
  expect(b.mimeType).toBe('image/jpeg');
  const bytes = Buffer.from(b.data ?? '', 'base64');
  expect(bytes.length).toBeLessThanOrEqual(300 * 1024);
  const img = jpeg.decode(bytes, { useTArray: true });
  expect(Math.max(img.width, img.height)).toBeLessThanOrEqual(768);
  return img;
}

describe('inline previews (stdio, sandbox)', () => {
  it.each([
    ['PNG', 'sandbox:bigpng', 768, 576],
    ['JPEG', 'sandbox:jpeg', 768, 576],
    ['WebP', 'sandbox:webp', 768, 576],
  ])('a %s output comes back as a JPEG thumbnail that decodes, long side 768', async (_f, marker, w, h) => {
    const done = await run(server, 'mediaio_t2i_imagen_4', { prompt: `a lighthouse ${marker}`, counts: '1' });
    const images = blocks(done, 'image');
    expect(images).toHaveLength(1);
    expect(decoded(images[0])).toMatchObject({ width: w, height: h });
    // The text and the resource_link stay.
    expect(blocks(done, 'resource_link')).toHaveLength(1);
    expect(text(done)).toContain('image: http://127.0.0.1');
    expect(outputsOf(done)[0].preview).toMatchObject({ type: 'image', mime_type: 'image/jpeg' });
  });

  it('caches the thumbnail beside the kept copy, and jobs_get answers it again', async () => {
    const done = await run(server, 'mediaio_t2i_imagen_4', { prompt: 'a cached lighthouse sandbox:jpeg', counts: '1' });
    const id = sc(done).job_id as string;
    expect(existsSync(join(outDir, `${id}-1.thumb.jpg`))).toBe(true);
    const again = await server.call('jobs_get', { job_id: id });
    expect(blocks(again, 'image').map((b) => b.data)).toEqual(blocks(done, 'image').map((b) => b.data));
  });

  it('with outputs kept, a kept copy that cannot be read is a note, not a download from the provider', async () => {
    const done = await run(server, 'mediaio_t2i_imagen_4', { prompt: 'a lost lighthouse sandbox:jpeg', counts: '1' });
    const id = sc(done).job_id as string;
    const kept = readdirSync(outDir).filter((f) => f.startsWith(`${id}-1`));
    expect(kept.length).toBeGreaterThanOrEqual(2);
    for (const f of kept) rmSync(join(outDir, f));
    const before = sandbox.stats().total;
    const r = await server.call('media_thumbnail', { job_id: id, output: 1 });
    expect(blocks(r, 'image')).toHaveLength(0);
    expect(text(r)).toMatch(/^no preview: .*the kept copy is missing/);
    expect(sandbox.stats().total).toBe(before);
  });

  it.each([
    ['a decompression-bomb PNG', 'sandbox:bomb', /50000x50000 pixels, over the 40-megapixel cap/],
    ['a truncated PNG', 'sandbox:truncated', /no preview/],
  ])('%s gives no preview, a one-line note and a succeeded job', async (_what, marker, note) => {
    const done = await run(server, 'mediaio_t2i_imagen_4', { prompt: `a lighthouse ${marker}`, counts: '1' });
    expect(blocks(done, 'image')).toHaveLength(0);
    expect(text(done)).toMatch(/Previews: Output 1: no preview/);
    expect(String(outputsOf(done)[0].preview_note)).toMatch(note);
    expect(
      text(done)
        .split('\n')
        .filter((l) => l.startsWith('Previews:')),
    ).toHaveLength(1);
    // The server is still serving.
    expect((await server.call('jobs_get', { job_id: sc(done).job_id as string })).isError).toBeFalsy();
  });

  it('a video comes back with its cover as the thumbnail', async () => {
    const done = await run(server, 'mediaio_i2v_kling_v3_0', {
      image: 'https://example.com/cat.png',
      prompt: 'a cat surfing',
    });
    expect(outputsOf(done).map((o) => o.kind)).toEqual(['video', 'cover']);
    const images = blocks(done, 'image');
    expect(images).toHaveLength(1);
    expect(decoded(images[0])).toMatchObject({ width: 640, height: 360 });
  });

  it('audio under the caps comes back as audio blocks; over them, none and a note', async () => {
    const short = await run(server, 'phaya_text_to_music', { prompt: 'a short tune' });
    const audio = blocks(short, 'audio');
    expect(audio.length).toBeGreaterThanOrEqual(1);
    expect(audio[0].mimeType).toBe('audio/wav');
    expect(
      Buffer.from(audio[0].data ?? '', 'base64')
        .subarray(0, 4)
        .toString('ascii'),
    ).toBe('RIFF');
    const long = await run(server, 'phaya_text_to_music', { prompt: 'a long tune sandbox:longaudio' });
    expect(blocks(long, 'audio')).toHaveLength(0);
    expect(text(long)).toMatch(/no audio preview: the file is over the 600 KB audio cap/);
  });

  it('a job with many large outputs stays within 900 KB, leaving out what does not fit with a note', async () => {
    const done = await run(server, 'mediaio_t2i_imagen_4', { prompt: 'noise sandbox:noisy', counts: '4' });
    expect(Buffer.byteLength(JSON.stringify(done), 'utf8')).toBeLessThanOrEqual(900 * 1024);
    const images = blocks(done, 'image');
    expect(images.length).toBeGreaterThanOrEqual(1);
    expect(images.length).toBeLessThan(4);
    for (const b of images) decoded(b);
    expect(text(done)).toMatch(/preview left out: the result would pass 900 KB/);
    expect(blocks(done, 'resource_link')).toHaveLength(4);
  });

  it('--previews off gives no preview blocks', async () => {
    off = await spawnStdio(env(sandbox), ['--previews', 'off']);
    const done = await run(off, 'mediaio_t2i_imagen_4', { prompt: 'a lighthouse sandbox:jpeg', counts: '1' });
    expect(blocks(done, 'image')).toHaveLength(0);
    expect(outputsOf(done)[0].preview).toBeUndefined();
    expect(text(done)).not.toContain('Previews:');
    const id = (done.structuredContent as { job_id: string }).job_id;
    const before = sandbox.stats().total;
    const thumb = await off.client.callTool({ name: 'media_thumbnail', arguments: { job_id: id, output: 1 } });
    expect(thumb.isError).toBeFalsy();
    expect(blocks(thumb as CallToolResult, 'image')).toHaveLength(0);
    expect(text(thumb as CallToolResult)).toBe('no preview: previews are off on this server / for this principal');
    expect(sandbox.stats().total).toBe(before);
  });

  it('media_thumbnail answers an output thumbnail (a video: its cover), app-only, without a status poll', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.find((t) => t.name === 'media_thumbnail')?._meta).toEqual({ ui: { visibility: ['app'] } });
    const done = await run(server, 'mediaio_t2i_imagen_4', { prompt: 'a thumb sandbox:webp', counts: '1' });
    const id = sc(done).job_id as string;
    const before = sandbox.stats().total;
    const r = await server.call('media_thumbnail', { job_id: id, output: 1 });
    expect(r.isError, text(r)).toBeFalsy();
    expect(decoded(blocks(r, 'image')[0])).toMatchObject({ width: 768 });
    const none = await server.call('media_thumbnail', { job_id: id, output: 2 });
    expect(text(none)).toMatch(/^no preview: the job has no output 2/);
    expect(sandbox.stats().total).toBe(before);
    expect(readdirSync(outDir).some((f) => f.startsWith(`${id}-1.thumb`))).toBe(true);
  });

  it("the CLI's --json carries the thumbnail of a waited job", async () => {
    const r = await runPiped(
      ['call', 'mediaio_t2i_imagen_4', 'prompt=a lighthouse sandbox:webp', 'counts=1', '--wait', '--json'],
      env(sandbox),
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      status: string;
      previews: { type: string; mime_type: string; data: string }[];
    };
    expect(doc.status).toBe('succeeded');
    expect(doc.previews).toHaveLength(1);
    expect(decoded({ type: 'image', mimeType: doc.previews[0].mime_type, data: doc.previews[0].data })).toMatchObject({
      width: 768,
    });
  });
});
