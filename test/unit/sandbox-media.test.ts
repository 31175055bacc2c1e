/** The sandbox's preview test files: what each marker serves, and the cover on Media.io video results. */
import { describe, expect, it } from 'vitest';
import { readHeader } from '../../src/previews/header.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { mediaFile, mediaName } from '../../src/sandbox/media.js';
import { findFaults } from '../../src/sandbox/faults.js';

describe('sandbox preview media', () => {
  it.each([
    ['sandbox:jpeg', 'photo.jpg', 'image/jpeg', { format: 'jpeg', width: 1600, height: 1200 }],
    ['sandbox:webp', 'photo.webp', 'image/webp', { format: 'webp', width: 1024, height: 768 }],
    ['sandbox:bigpng', 'photo.png', 'image/png', { format: 'png', width: 1200, height: 900 }],
    ['sandbox:noisy', 'noise.jpg', 'image/jpeg', { format: 'jpeg', width: 1536, height: 1536 }],
    ['sandbox:bomb', 'bomb.png', 'image/png', { format: 'png', width: 50_000, height: 50_000 }],
    ['', 'sample.png', 'image/png', { format: 'png', width: 64, height: 64 }],
  ])('%s serves %s, a real %s with the size its header declares', async (marker, name, type, header) => {
    expect(mediaName('png', findFaults(marker))).toBe(name);
    const file = await mediaFile(name);
    expect(file?.contentType).toBe(type);
    expect(readHeader(file!.data)).toMatchObject(header);
  });

  it('the bomb is a few KB; the truncated PNG has no end; the long WAV is over the audio caps', async () => {
    expect((await mediaFile('bomb.png'))!.data.length).toBeLessThan(20 * 1024);
    const cut = (await mediaFile('truncated.png'))!.data;
    expect(readHeader(cut)).toMatchObject({ format: 'png', width: 640, height: 480 });
    expect(cut.includes(Buffer.from('IEND'))).toBe(false);
    expect(mediaName('wav', findFaults('sandbox:longaudio'))).toBe('long.wav');
    const wav = (await mediaFile('long.wav'))!.data;
    expect(wav.length).toBeGreaterThan(600 * 1024);
    expect(wav.readUInt32LE(40) / (8000 * 2)).toBe(40);
  });

  it('Media.io video results carry a cover JPEG the sandbox serves', async () => {
    const sb = await startSandbox({ pollsToComplete: 1 });
    try {
      const post = (path: string, body: unknown) =>
        fetch(`${sb.url}/mediaio${path}`, {
          method: 'POST',
          headers: { 'X-API-KEY': sb.key, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<{ data: Record<string, unknown> }>);
      const created = await post('/generation/kling/i2v-kling-v3-0', { data: { prompt: 'a cat', image: 'x' } });
      const done = await post(`/generation/result/${created.data.task_id as string}`, {});
      const [item] = done.data.result as { preview: string; cover: string }[];
      expect(item.cover).toMatch(/\/_media\/cover\.jpg\?task=/);
      const res = await fetch(item.cover);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect(readHeader(new Uint8Array(await res.arrayBuffer()))).toEqual({ format: 'jpeg', width: 640, height: 360 });
    } finally {
      await sb.close();
    }
  });
});
