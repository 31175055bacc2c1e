/**
 * The thumbnailer's guards on untrusted bytes, through the built module (its decode worker is a file in
 * dist/): headers declaring more than the pixel cap are refused before decoding (PNG, JPEG, WebP), a
 * decode that runs past the time cap is terminated, and garbage or a cut-off file is a one-line reason.
 * The process stays up and the next thumbnail is made.
 */
import { describe, expect, it } from 'vitest';
import { makeBombPng, makeInterlacedPng, makeJpeg, makeTruncatedPng } from '../../src/sandbox/media-images.js';
import { ROOT } from '../helpers/paths.js';

type Thumbnailer = typeof import('../../src/previews/thumbnail.js');
const load = async (): Promise<Thumbnailer> => (await import(`${ROOT}dist/previews/thumbnail.js`)) as Thumbnailer;
type Pool = typeof import('../../src/previews/worker-pool.js');
const pool = async (): Promise<Pool> => (await import(`${ROOT}dist/previews/worker-pool.js`)) as Pool;

/** A baseline JPEG whose SOF0 declares w x h (and nothing after it). */
function jpegHeader(w: number, h: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 0xff, w >> 8, w & 0xff, 0x03]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.alloc(9)]);
}

/** A VP8X WebP header declaring w x h. */
function webpHeader(w: number, h: number): Buffer {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(22, 4);
  b.write('WEBPVP8X', 8, 'ascii');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(w - 1, 24, 3);
  b.writeUIntLE(h - 1, 27, 3);
  return b;
}

describe('thumbnail guards', () => {
  it.each([
    ['a PNG bomb', makeBombPng(), /50000x50000 pixels, over the 40-megapixel cap/],
    ['a JPEG declaring 60000x60000', jpegHeader(60_000, 60_000), /60000x60000 pixels, over the 40-megapixel cap/],
    ['a WebP declaring 16000x16000', webpHeader(16_000, 16_000), /16000x16000 pixels, over the 40-megapixel cap/],
    [
      'a 16-bit PNG under the pixel cap but over the decoded-byte cap',
      makeBombPng(5000, 5000, 4, 16),
      /its 5000x5000 16-bit pixels would need 200 MB decoded, over the 160 MB cap/,
    ],
    ['bytes of no image format', Buffer.from('GIF89a not really'), /not a PNG, JPEG or WebP image/],
    ['a PNG with a damaged header', Buffer.concat([makeBombPng().subarray(0, 12), Buffer.from('XXXX')]), /damaged/],
  ])('refuses %s before decoding', async (_what, bytes, reason) => {
    const { makeThumbnail } = await load();
    const r = await makeThumbnail(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('decodes an honest interlaced PNG and refuses one whose data inflates past its header', async () => {
    const { makeThumbnail } = await load();
    const honest = await makeThumbnail(makeInterlacedPng(37, 23));
    expect(honest).toMatchObject({ ok: true, width: 37, height: 23 });
    // Declares 1x1 (4 bytes of pixels); its data inflates to 64 MB of zeros.
    const bomb = makeInterlacedPng(1, 1, 64 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(200 * 1024);
    const r = await makeThumbnail(bomb);
    expect(r).toEqual({ ok: false, reason: 'its image data inflates past the 1x1 its header declares' });
  });

  it('a truncated PNG is a reason, not an exception', async () => {
    const { makeThumbnail } = await load();
    const r = await makeThumbnail(makeTruncatedPng());
    expect(r).toMatchObject({ ok: false });
  });

  it('terminates a decode that is running past its time cap, then makes the next thumbnail', async () => {
    const { makeThumbnail, THUMB_LIMITS } = await load();
    const { workersStarted } = await pool();
    // 6000x6000 honest black pixels: a small file whose decode (108 MB inflated, 36 MP) takes seconds.
    const slow = makeBombPng(6000, 6000, 6000);
    expect(await makeThumbnail(makeJpeg(64, 48, 85))).toMatchObject({ ok: true });
    const before = workersStarted();
    // The worker is up (the thumbnail above), so these 400 ms are spent in the decode itself.
    const r = await makeThumbnail(slow, { ...THUMB_LIMITS, timeoutMs: 400 });
    expect(r).toEqual({ ok: false, reason: 'decoding took over 400 ms' });
    expect(workersStarted()).toBe(before);
    const fine = await makeThumbnail(makeJpeg(800, 600, 85));
    expect(fine).toMatchObject({ ok: true, width: 768, height: 576, mimeType: 'image/jpeg' });
    expect(workersStarted()).toBe(before + 1);
  });

  it('reuses one decode worker for thumbnail after thumbnail', async () => {
    const { makeThumbnail } = await load();
    const { workersStarted } = await pool();
    expect(await makeThumbnail(makeJpeg(320, 240, 85))).toMatchObject({ ok: true });
    const before = workersStarted();
    for (const [w, h] of [
      [400, 300],
      [300, 400],
      [128, 128],
    ])
      expect(await makeThumbnail(makeJpeg(w, h, 85))).toMatchObject({ ok: true, width: w, height: h });
    expect(await makeThumbnail(makeInterlacedPng(40, 30))).toMatchObject({ ok: true });
    expect(workersStarted()).toBe(before);
  });
});
