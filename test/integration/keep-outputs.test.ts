/**
 * App.keepOutputs as the background worker calls it (a real app over a real SQLite store, a real
 * S3-compatible server, providers on loopback): outputs kept and recorded on the job, idempotent, a
 * per-output refusal recorded rather than thrown, and only transient trouble thrown so the worker retries.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../../src/sandbox/media.js';
import type { App } from '../../src/app.js';
import type { JobRecord } from '../../src/store/store.js';
import { ACME_KEY, PNG, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { connectInMemory } from '../helpers/in-memory.js';
import { serveFiles, type MediaServer } from '../helpers/media-server.js';
import { ACME_FILE } from '../helpers/paths.js';
import { startS3, type TestBucket } from '../helpers/s3.js';

let hostile: HostileProvider;
let files: MediaServer;
let bucket: TestBucket;
const closers: (() => Promise<void>)[] = [];
const signal = new AbortController().signal;

beforeAll(async () => {
  hostile = await startHostileProvider();
  bucket = await startS3();
  files = await serveFiles({
    '/busy.png': { status: 503 },
    '/gone.png': { status: 404 },
    '/large.png': { type: 'image/png', data: Buffer.concat([makePng(8, 8), Buffer.alloc(1024 * 1024 + 1)]) },
  });
});
afterAll(async () => {
  await files?.close();
  await bucket?.close();
  await hostile?.close();
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

interface Served {
  app: App;
  /** A job with these result URLs, as created (not polled). */
  start: (urls: string[]) => Promise<JobRecord>;
  /** The same, polled to success through the ledger only (nothing kept yet). */
  create: (urls: string[]) => Promise<JobRecord>;
}

async function appWith(env: Record<string, string>, argv: string[]): Promise<Served> {
  const c = await connectInMemory(
    ['--catalogue', ACME_FILE, ...argv],
    { MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1', MEDIAGEN_DOWNLOAD_MAX_MB: '1', ...env },
    { baseUrl: () => hostile.url, key: ACME_KEY },
  );
  closers.push(c.close);
  const start = async (urls: string[]): Promise<JobRecord> => {
    hostile.setOutputs(urls);
    const r = await c.client.callTool({ name: 'acme_image_create', arguments: { prompt: 'a paper boat' } });
    expect(r.isError).toBeFalsy();
    return c.app.ledger.get((r.structuredContent as { job_id: string }).job_id);
  };
  const create = async (urls: string[]): Promise<JobRecord> => {
    let job = await start(urls);
    for (let i = 0; i < 20 && job.status !== 'succeeded'; i++) job = await c.app.ledger.poll(job.id, signal);
    expect(job.status).toBe('succeeded');
    return job;
  };
  return { app: c.app, start, create };
}
const s3App = (prefix: string, env: Record<string, string> = {}) =>
  appWith({ ...bucket.env, ...env }, ['--output-store', `s3://${bucket.bucket}/${prefix}`]);

describe('App.keepOutputs (what the worker calls for a due succeeded job)', () => {
  it('keeps every output, records key, size and type on the job, and is idempotent', async () => {
    const { app, create } = await s3App('w1');
    const job = await create([`${hostile.url}/media/a.png`, `${hostile.url}/media/b.png`]);
    expect(job.outputs.every((o) => o.storedKey === undefined)).toBe(true);
    const kept = await app.keepOutputs!(job, signal);
    expect(kept.outputs.map((o) => o.storedKey)).toEqual([`w1/local/${job.id}/1.png`, `w1/local/${job.id}/2.png`]);
    expect(kept.outputs[0]).toMatchObject({ storedBytes: PNG.length, storedType: 'image/png' });
    expect((await app.store.getJob(job.id))!.outputs).toEqual(kept.outputs);
    expect(bucket.object(`w1/local/${job.id}/2.png`).equals(PNG)).toBe(true);
    const hits = hostile.hits('/media/a.png') + hostile.hits('/media/b.png');
    const again = await app.keepOutputs!(kept, signal);
    expect(again.outputs).toEqual(kept.outputs);
    expect(hostile.hits('/media/a.png') + hostile.hits('/media/b.png')).toBe(hits);
  });

  it('a 404 and an output over the size cap are recorded per output, not thrown; a 503 is thrown (retry later)', async () => {
    const { app, create } = await s3App('w2');
    const job = await create([`${files.url}/gone.png`, `${files.url}/large.png`, `${hostile.url}/media/c.png`]);
    const kept = await app.keepOutputs!(job, signal);
    expect(kept.outputs[0].storeError).toMatch(/HTTP 404/);
    expect(kept.outputs[1].storeError).toMatch(/over the 1048576-byte download limit/);
    expect(kept.outputs[2].storedKey).toBe(`w2/local/${job.id}/3.png`);

    const busy = await create([`${files.url}/busy.png`]);
    await expect(app.keepOutputs!(busy, signal)).rejects.toThrow(/503/);
    const after = (await app.store.getJob(busy.id))!;
    expect(after.outputs[0].storeError).toBeUndefined();
    expect(after.outputs[0].storedKey).toBeUndefined();
    await expect(app.keepOutputs!(after, signal)).rejects.toThrow(/503/);
    expect(files.hits('/busy.png')).toBe(2);
  });

  it('an unreachable bucket is thrown (the worker retries), records nothing, and names no secret', async () => {
    const { app, create } = await s3App('w3', {
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
      AWS_SECRET_ACCESS_KEY: 'SECRET-NEVER-SHOWN',
    });
    const job = await create([`${hostile.url}/media/d.png`]);
    const err = await app.keepOutputs!(job, signal).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/could not be reached/);
    expect((err as Error).message).not.toContain('SECRET-NEVER-SHOWN');
    expect((await app.store.getJob(job.id))!.outputs[0]).not.toHaveProperty('storedKey');
    expect((await app.store.getJob(job.id))!.outputs[0]).not.toHaveProperty('storeError');
  });

  it('a job that has not succeeded is left alone; with a local store and no --keep-outputs there is no keepOutputs', async () => {
    const { app, start } = await s3App('w4');
    hostile.setStatus('running');
    let running: JobRecord;
    try {
      running = await app.ledger.poll((await start([`${hostile.url}/media/e.png`])).id, signal);
    } finally {
      hostile.setStatus('completed');
    }
    expect(running.status).toBe('running');
    expect(await app.keepOutputs!(running, signal)).toMatchObject({ id: running.id, outputs: [] });
    expect(hostile.hits('/media/e.png')).toBe(0);
    const local = await appWith({}, []);
    expect(local.app.keepOutputs).toBeUndefined();
  });
});
