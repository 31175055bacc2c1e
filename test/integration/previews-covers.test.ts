/**
 * Previews through the built modules against a loopback HTTP server that counts requests: a Media.io
 * video result whose first item has no cover pairs each cover with its own video (the cover's result
 * item), and a provider URL whose fetch failed is not fetched again on the next read.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../src/sandbox/media-images.js';
import type { JobOutput, JobRecord } from '../../src/store/store.js';
import { ROOT } from '../helpers/paths.js';

type Previews = typeof import('../../src/previews/previews.js');
type Results = typeof import('../../src/jobs/results.js');
type Local = typeof import('../../src/outputs/local.js');
const load = async () => ({
  previews: (await import(`${ROOT}dist/previews/previews.js`)) as Previews,
  results: (await import(`${ROOT}dist/jobs/results.js`)) as Results,
  local: (await import(`${ROOT}dist/outputs/local.js`)) as Local,
});

const VIDEO_SPEC = {
  results: [
    { field: 'result[].preview', kind: 'video' },
    { field: 'result[].cover', kind: 'cover' },
  ],
} as const satisfies Parameters<Results['extractOutputs']>[1];

let http: Server;
let base: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  http = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    // /cover/<w>: a w x 40 JPEG, so a thumbnail tells which cover it was made from.
    const m = /^\/cover\/(\d+)$/.exec(path);
    if (m) {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(makeJpeg(Number(m[1]), 40, 85));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('gone');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => http.close(() => r()));
});

function job(id: string, outputs: JobOutput[]): JobRecord {
  const now = Date.now();
  return {
    id,
    provider: 'mediaio',
    tool: 'mediaio_i2v',
    providerJobId: `p_${id}`,
    argsHash: 'h',
    args: {},
    price: null,
    callerId: 'c',
    principal: 'local',
    status: 'succeeded',
    providerStatus: 'completed',
    progress: null,
    outputs,
    error: null,
    polls: 1,
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
  };
}

async function previewer() {
  const { previews, local } = await load();
  return new previews.Previewer(new local.LocalStore(undefined), {
    policy: { allowHosts: new Set(['127.0.0.1']), allowOrigins: new Set() },
    maxSourceBytes: 10 * 1024 * 1024,
  });
}

const widthOf = (data: string | undefined) => jpeg.decode(Buffer.from(data ?? '', 'base64')).width;

describe('video covers', () => {
  it('a result item without a cover does not shift the later videos onto the wrong cover', async () => {
    const { results } = await load();
    const data = {
      result: [
        { preview: `${base}/video/a.mp4` },
        { preview: `${base}/video/b.mp4`, cover: `${base}/cover/120` },
        { preview: `${base}/video/c.mp4`, cover: `${base}/cover/90` },
      ],
    };
    const outs = results.extractOutputs(data, VIDEO_SPEC);
    expect(outs.map((o) => [o.kind, o.of])).toEqual([
      ['video', undefined],
      ['video', undefined],
      ['video', undefined],
      ['cover', 2],
      ['cover', 3],
    ]);
    const p = await previewer();
    try {
      const j = job('job_covers', outs);
      const first = await p.thumbnailOf(j, 1, 20_000);
      expect(first.block).toBeUndefined();
      expect(first.note).toBe('mediaio gave no cover image for this video');
      const second = await p.thumbnailOf(j, 2, 20_000);
      expect(second).toMatchObject({ n: 2, coverOf: 4 });
      expect(widthOf(second.block?.data)).toBe(120);
      const third = await p.thumbnailOf(j, 3, 20_000);
      expect(third).toMatchObject({ n: 3, coverOf: 5 });
      expect(widthOf(third.block?.data)).toBe(90);
    } finally {
      await p.close();
    }
  });
});

describe('failed fetches', () => {
  it('a provider URL that 404s is fetched once, not on every read, until its memory expires', async () => {
    const { previews, local } = await load();
    let clock = Date.now();
    const p = new previews.Previewer(new local.LocalStore(undefined), {
      policy: { allowHosts: new Set(['127.0.0.1']), allowOrigins: new Set() },
      maxSourceBytes: 10 * 1024 * 1024,
      now: () => clock,
    });
    try {
      const j = job('job_dead', [{ url: `${base}/dead/x.png`, kind: 'image', mimeType: 'image/png' }]);
      const first = await p.forJob(j, 20_000);
      expect(first).toHaveLength(1);
      expect(first[0].block).toBeUndefined();
      expect(first[0].note).toMatch(/^no preview \(.*404/);
      expect(hits.get('/dead/x.png')).toBe(1);
      const second = await p.forJob(j, 20_000);
      expect(second[0].note).toBe(first[0].note);
      expect(hits.get('/dead/x.png')).toBe(1);
      clock += previews.FAILURE_MEMORY_MS + 1;
      await p.forJob(j, 20_000);
      expect(hits.get('/dead/x.png')).toBe(2);
    } finally {
      await p.close();
    }
  });
});
