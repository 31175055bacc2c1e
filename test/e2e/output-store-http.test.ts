/**
 * The output store over Streamable HTTP with two bearer tokens: each principal's outputs land under its
 * own prefix, another principal's job (and so its stored output) is NOT_FOUND, and media_upload answers a
 * presigned PUT (Content-Type and Content-Length signed in) that the bucket accepts plus the GET link the
 * object then has; every link passes an independent SigV4 check. The server reads no client paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { makePng } from '../../src/sandbox/media.js';
import {
  connectHttp,
  spawnHttp,
  writeTokens,
  type HttpClient,
  type HttpServerProcess,
} from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { S3_CREDS, startS3, type TestBucket } from '../helpers/s3.js';
import { verifyPresigned } from '../helpers/sigv4.js';
import { text } from '../helpers/stdio.js';

let bucket: TestBucket;
let server: HttpServerProcess;
let alice: HttpClient;
let bob: HttpClient;
const creds = S3_CREDS;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const png = makePng(20, 20);

beforeAll(async () => {
  bucket = await startS3();
  const dir = tempDir();
  const t = writeTokens(dir, { alice: {}, bob: {} });
  server = await spawnHttp({ ...bucket.env, MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50' }, [
    '--sandbox',
    '--tokens-file',
    t.file,
    '--output-store',
    `s3://${bucket.bucket}/hosted`,
  ]);
  alice = await connectHttp(server.url, t.tokens.alice);
  bob = await connectHttp(server.url, t.tokens.bob);
});
afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await server?.stop();
  await bucket?.close();
});

describe('kept outputs per principal over HTTP', () => {
  let jobId: string;
  let storedUrl: string;

  it("alice's output lands under hosted/alice/ and its link is signed", async () => {
    const created = await alice.call('phaya_text_to_image', { prompt: 'a hosted lantern' });
    expect(created.isError, text(created)).toBeFalsy();
    jobId = sc(created).job_id as string;
    const r = await alice.call('jobs_wait', { job_id: jobId, wait_seconds: 30 });
    expect(r.isError, text(r)).toBeFalsy();
    storedUrl = (sc(r).outputs as { stored_url: string }[])[0].stored_url;
    expect(bucket.keys()).toContain(`hosted/alice/${jobId}/1.png`);
    expect(verifyPresigned(storedUrl, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    expect((await request(storedUrl)).statusCode).toBe(200);
  });

  it("bob gets NOT_FOUND for alice's job from jobs_get and jobs_wait: no link is signed for him", async () => {
    for (const tool of ['jobs_get', 'jobs_wait']) {
      const r = await bob.call(tool, { job_id: jobId });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^NOT_FOUND/);
      expect(text(r)).not.toContain('X-Amz-Signature');
    }
  });
});

describe('outputs kept with nobody waiting', () => {
  it('a job created and left (the client closed, no call after the create) ends up in the bucket', async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { carol: {} });
    const own = await spawnHttp({ ...bucket.env, MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50' }, [
      '--sandbox',
      '--tokens-file',
      t.file,
      '--output-store',
      `s3://${bucket.bucket}/alone`,
    ]);
    try {
      const carol = await connectHttp(own.url, t.tokens.carol);
      const created = await carol.call('phaya_text_to_image', { prompt: 'a lantern nobody waits for' });
      expect(created.isError, text(created)).toBeFalsy();
      const id = sc(created).job_id as string;
      await carol.close();
      const key = `alone/carol/${id}/1.png`;
      for (let i = 0; i < 120 && !bucket.keys().includes(key); i++) await new Promise((r) => setTimeout(r, 250));
      expect(bucket.keys()).toContain(key);
      const back = await connectHttp(own.url, t.tokens.carol);
      const r = await back.call('jobs_get', { job_id: id });
      expect(sc(r).status).toBe('succeeded');
      const url = (sc(r).outputs as { stored_url: string }[])[0].stored_url;
      expect(new URL(url).pathname).toBe(`/${bucket.bucket}/${key}`);
      expect(verifyPresigned(url, { method: 'GET', ...creds })).toMatchObject({ ok: true });
      await back.close();
    } finally {
      await own.stop();
    }
  });
});

describe('media_upload over HTTP (presigned PUT)', () => {
  it('answers a PUT URL the bucket accepts and a GET URL that serves the bytes, both signed', async () => {
    const r = await bob.call('media_upload', { filename: 'cat.png', content_type: 'image/png', size: png.length });
    expect(r.isError, text(r)).toBeFalsy();
    const s = sc(r) as { put_url: string; get_url: string; key: string; headers: Record<string, string> };
    expect(s.key).toMatch(/^hosted\/bob\/uploads\/[0-9a-f]{32}\.png$/);
    expect(s.headers).toEqual({ 'Content-Type': 'image/png', 'Content-Length': String(png.length) });
    expect(verifyPresigned(s.put_url, { method: 'PUT', ...creds, headers: s.headers })).toMatchObject({
      ok: true,
      signedHeaders: ['content-length', 'content-type', 'host'],
    });
    expect(verifyPresigned(s.get_url, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    const put = await request(s.put_url, { method: 'PUT', headers: s.headers, body: png });
    await put.body.text();
    expect(put.statusCode).toBe(200);
    expect(bucket.object(s.key).equals(png)).toBe(true);
    const got = await request(s.get_url);
    expect(got.statusCode).toBe(200);
    expect(Buffer.from(await got.body.arrayBuffer()).equals(png)).toBe(true);
  });

  it('refuses a path (the server reads no client files), a non-media type and a size over the cap', async () => {
    const bad = [
      { path: '/etc/passwd' },
      { filename: 'x.txt', content_type: 'text/plain', size: 10 },
      { filename: 'x.png', content_type: 'image/png', size: 101 * 1024 * 1024 },
    ];
    for (const args of bad) {
      const r = await alice.call('media_upload', args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(text(r)).toMatch(/^BAD_ARGUMENTS/);
    }
  });
});

describe('an s3 store without credentials over HTTP', () => {
  it('refuses to start (NOT_CONFIGURED), though apps are built per principal on first use', async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {} });
    const started = await spawnHttp({ MEDIAGEN_STATE_DIR: dir }, [
      '--sandbox',
      '--tokens-file',
      t.file,
      '--output-store',
      's3://nokeys',
    ]).catch((e: Error) => e);
    if (!(started instanceof Error)) await started.stop(); // it served: never leave it running
    expect(started).toBeInstanceOf(Error);
    expect((started as Error).message).toMatch(/NOT_CONFIGURED: --output-store s3:\/\/nokeys needs AWS_ACCESS_KEY_ID/);
  });
});
