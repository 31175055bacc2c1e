import { describe, it, expect } from 'vitest';
import {
  download,
  EMPTY_STATS,
  expectCounts,
  expectResetEmpty,
  httpStats,
  withSandbox,
} from '../helpers/sandbox-http.js';
import { createTask, env, poll, post, type Envelope } from '../helpers/mediaio-wire.js';

describe('sandbox: Media.io wire format', () => {
  it('builds provider base URLs from the default base path', async () => {
    await withSandbox({}, async (sb) => {
      expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(sb.key).toBe('sandbox-key');
      expect(sb.baseUrl('mediaio', 'https://openapi.media.io')).toBe(`${sb.url}/mediaio`);
      expect(sb.baseUrl('mediaio', 'https://openapi.media.io/')).toBe(`${sb.url}/mediaio`);
      expect(sb.baseUrl('phaya', 'https://api.phaya.io/api/v1')).toBe(`${sb.url}/phaya/api/v1`);
      expect(sb.baseUrl('phaya', 'https://api.phaya.io/api/v1/')).toBe(`${sb.url}/phaya/api/v1`);
    });
  });

  it('answers /user/credits with the balance envelope', async () => {
    await withSandbox({}, async (sb) => {
      const e = await env(sb, '/user/credits');
      expect(e).toMatchObject({ code: 0, msg: '', data: { credits: 1000 } });
    });
  });

  it('creates a video task that moves waiting -> processing -> completed and yields a real MP4', async () => {
    await withSandbox({}, async (sb) => {
      const id = await createTask(sb, 'kling/i2v-kling-v3-0', {
        image: 'https://example.com/cat.png',
        prompt: 'a cat surfing',
        duration: '5s',
      });
      const p1 = await poll(sb, id);
      expect(p1).toEqual({ task_id: id, status: 'waiting', reason: '', result: [] });
      expect((await poll(sb, id)).status).toBe('processing');
      const done = await poll(sb, id);
      expect(done.status).toBe('completed');
      expect(done.reason).toBe('success');
      expect(done.result).toHaveLength(1);
      expect(done.result[0].status).toBe(1);
      expect(done.result[0].val).toMatch(/^\/aigc\/\d{4}\/\d{2}\/\d{2}\/mio-[0-9a-f]+-0\.mp4$/);
      expect(done.result[0].preview).toBe(`${sb.url}/_media/sample.mp4?task=${done.task_id}&n=0`);
      expect((await poll(sb, id)).status).toBe('completed'); // stays done
      const file = await download(done.result[0].preview);
      expect(file.type).toBe('video/mp4');
      expect(Number(file.length)).toBe(file.bytes.length);
      expect(file.bytes.length).toBeGreaterThan(500);
      expect(file.bytes.subarray(4, 8).toString('ascii')).toBe('ftyp');
    });
  });

  it('creates image tasks (t2i-/i2i-) with one PNG result per Imagen count', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const id = await createTask(sb, 'imagen/t2i-imagen-4', { prompt: 'two owls', counts: '2', ratio: '1:1' });
      const done = await poll(sb, id);
      expect(done.status).toBe('completed');
      expect(done.result).toHaveLength(2);
      expect(done.result.map((r) => r.val.slice(-6))).toEqual(['-0.png', '-1.png']);
      const file = await download(done.result[1].preview);
      expect(file.type).toBe('image/png');
      expect(Number(file.length)).toBe(file.bytes.length);
      expect([...file.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(file.bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
      expect(file.bytes.readUInt32BE(16)).toBe(64);

      const i2i = await createTask(sb, 'banana/i2i-banana', { images: ['https://example.com/a.png'], prompt: 'x' });
      expect((await poll(sb, i2i)).result[0].preview).toBe(`${sb.url}/_media/sample.png?task=${i2i}&n=0`);
    });
  });

  it('serves a real 1 s PCM WAV', async () => {
    await withSandbox({}, async (sb) => {
      const file = await download(`${sb.url}/_media/sample.wav`);
      expect(file.type).toBe('audio/wav');
      expect(file.bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
      expect(file.bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
      const byteRate = file.bytes.readUInt32LE(28);
      expect(file.bytes.readUInt32LE(40)).toBe(byteRate); // exactly one second of data
      expect(Number(file.length)).toBe(file.bytes.length);
      expect((await fetch(`${sb.url}/_media/nope.gif`)).status).toBe(404);
    });
  });

  it('rejects a wrong or missing X-API-KEY with envelope 40001 (HTTP 200)', async () => {
    await withSandbox({ key: 'k-123' }, async (sb) => {
      expect((await env(sb, '/user/credits', {}, 'wrong')).code).toBe(40001);
      const e = await env(sb, '/generation/kling/i2v-kling-v3-0', { data: { prompt: 'x' } }, null);
      expect(e).toMatchObject({ code: 40001, msg: 'Invalid API key', data: {} });
      expect((await env(sb, '/user/credits', {}, 'k-123')).code).toBe(0);
      const s = sb.stats();
      expect(s.total).toBe(3);
      expect(s.requests.map((r) => r.authorized)).toEqual([false, false, true]);
      expect(s.jobs).toBe(0);
    });
  });

  it('rejects a create body that is not {"data": {...}} with 490000', async () => {
    await withSandbox({}, async (sb) => {
      for (const body of [{ prompt: 'x' }, { data: 'x' }, { data: [] }, [], {}]) {
        const e = await env(sb, '/generation/kling/i2v-kling-v3-0', body);
        expect(e.code).toBe(490000);
        expect(e.msg).toBe('params error: body must be {"data": {...}}');
        expect(e.data).toEqual({});
      }
      const bad = await post(sb, '/generation/kling/i2v-kling-v3-0', '{"data": ');
      expect(bad.status).toBe(200);
      expect((JSON.parse(bad.text) as Envelope).code).toBe(490000);
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('answers an unknown task id with 40003', async () => {
    await withSandbox({}, async (sb) => {
      expect(await env(sb, '/generation/result/mio-doesnotexist')).toMatchObject({
        code: 40003,
        msg: 'Task not found',
        data: {},
      });
    });
  });

  it('answers unknown routes, wrong methods and unknown providers with 404/405', async () => {
    await withSandbox({}, async (sb) => {
      expect((await post(sb, '/nope', '{}')).status).toBe(404);
      expect((await post(sb, '/generation/Kling/I2V', '{"data":{}}')).status).toBe(404);
      const nf = JSON.parse((await post(sb, '/user/credits/extra', '{}')).text) as Envelope;
      expect(nf).toMatchObject({ code: 404, msg: 'Not Found' });
      const get = await fetch(`${sb.url}/mediaio/user/credits`, { headers: { 'X-API-KEY': sb.key } });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect((await fetch(`${sb.url}/nosuchprovider/v1/x`, { method: 'POST', body: '{}' })).status).toBe(404);
      expect(sb.stats().byProvider).toEqual({ mediaio: 4, '(unknown)': 1 });
    });
  });
});

describe('sandbox: request counting', () => {
  it('counts exactly the provider requests, by provider and route; reset() zeroes them', async () => {
    await withSandbox({ pollsToComplete: 2 }, async (sb) => {
      expect(sb.stats()).toEqual(EMPTY_STATS);
      await env(sb, '/user/credits');
      const id = await createTask(sb, 'kling/i2v-kling-v2-6', { image: 'https://x/y.png', prompt: 'p' });
      await poll(sb, id);
      const done = await poll(sb, id);
      await download(done.result[0].preview); // media downloads are not provider requests
      await httpStats(sb); // neither are /_sandbox/* calls
      await download(`${sb.url}/`);

      const s = expectCounts(sb, {
        total: 4,
        byProvider: { mediaio: 4 },
        byRoute: {
          'mediaio POST /user/credits': 1,
          'mediaio POST /generation/{vendor}/{model_code}': 1,
          'mediaio POST /generation/result/{task_id}': 2,
        },
      });
      expect(s.jobs).toBe(1);
      expect(s.requests.map((r) => r.path)).toEqual([
        '/mediaio/user/credits',
        '/mediaio/generation/kling/i2v-kling-v2-6',
        `/mediaio/generation/result/${id}`,
        `/mediaio/generation/result/${id}`,
      ]);
      expect(s.requests[1]).toMatchObject({
        provider: 'mediaio',
        method: 'POST',
        authorized: true,
        body: { data: { image: 'https://x/y.png', prompt: 'p' } },
      });
      expect(typeof s.requests[0].at).toBe('number');

      expect(await httpStats(sb)).toEqual(s);

      expectResetEmpty(sb);
      expect((await env(sb, `/generation/result/${id}`)).code).toBe(40003); // jobs forgotten
    });
  });

  it('exposes stats and reset over HTTP for out-of-process tests', async () => {
    await withSandbox({}, async (sb) => {
      await env(sb, '/user/credits');
      await env(sb, '/user/credits', {}, 'bad');
      const s = await httpStats(sb);
      expect(s.total).toBe(2);
      expect(s.requests.map((r) => r.authorized)).toEqual([true, false]);
      const r = await fetch(`${sb.url}/_sandbox/reset`, { method: 'POST' });
      expect(r.status).toBe(200);
      expect((await httpStats(sb)).total).toBe(0);
      expect((await fetch(`${sb.url}/_sandbox/reset`)).status).toBe(405);
    });
  });

  it('refuses bodies over 1 MB with 413', async () => {
    await withSandbox({}, async (sb) => {
      const big = JSON.stringify({ data: { prompt: 'x'.repeat(1024 * 1024) } });
      const a = await post(sb, '/generation/kling/i2v-kling-v3-0', big);
      expect(a.status).toBe(413);
      expect(sb.stats().jobs).toBe(0);
    });
  });
});
