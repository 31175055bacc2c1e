/**
 * The output store end to end over stdio: the built server in sandbox mode (and a hostile provider),
 * a real SDK Client, a real S3-compatible server (s3rver) on loopback, and every link the server hands
 * out checked with an independent SigV4 verifier (s3rver itself does not check signatures).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { makePng, mediaFile } from '../../src/sandbox/media.js';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { serveFiles, type MediaServer } from '../helpers/media-server.js';
import { ACME_FILE, CLI } from '../helpers/paths.js';
import { S3_CREDS, startS3, type TestBucket } from '../helpers/s3.js';
import { verifyPresigned } from '../helpers/sigv4.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let bucket: TestBucket;
let server: StdioServer;
const inputDir = tempDir('mediagen-input-');
const outside = tempDir('mediagen-outside-');
const png = makePng(24, 24);
const creds = S3_CREDS;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
type Out = { url: string; stored_url?: string; store_error?: string; stored_type?: string; path?: string | null };
const outs = (r: CallToolResult) => sc(r).outputs as Out[];

const fetchBytes = async (url: string) => {
  const r = await request(url);
  return { status: r.statusCode, body: Buffer.from(await r.body.arrayBuffer()) };
};

beforeAll(async () => {
  bucket = await startS3();
  writeFileSync(join(inputDir, 'good.png'), png);
  writeFileSync(join(inputDir, 'note.txt'), 'just words, not media');
  writeFileSync(join(inputDir, 'big.png'), Buffer.concat([png, Buffer.alloc(1024 * 1024 + 10)]));
  writeFileSync(join(outside, 'secret.png'), makePng(4, 4));
  symlinkSync(join(outside, 'secret.png'), join(inputDir, 'link.png'));
  mkdirSync(join(inputDir, 'sub'));
  server = await spawnStdio(
    {
      ...bucket.env,
      MEDIAGEN_POLL_MS: '50',
      MEDIAGEN_INPUT_DIR: inputDir,
      MEDIAGEN_UPLOAD_MAX_MB: '1',
    },
    ['--sandbox', '--output-store', `s3://${bucket.bucket}/media`],
  );
});
afterAll(async () => {
  await server?.close();
  await bucket?.close();
});

async function succeeded(s: StdioServer, prompt: string): Promise<CallToolResult> {
  const created = await s.call('phaya_text_to_image', { prompt });
  expect(created.isError, text(created)).toBeFalsy();
  const r = await s.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: 30 });
  expect(r.isError, text(r)).toBeFalsy();
  expect(sc(r).status).toBe('succeeded');
  return r;
}

describe('kept outputs in an S3 bucket (stdio, sandbox)', () => {
  it("a succeeded job's output lands under the principal's prefix; stored_url is signed and serves the provider's bytes", async () => {
    const r = await succeeded(server, 'a kept lantern');
    const id = sc(r).job_id as string;
    const [o] = outs(r);
    expect(o.stored_url, text(r)).toBeDefined();
    expect(bucket.keys()).toContain(`media/local/${id}/1.png`);
    expect(new URL(o.stored_url!).pathname).toBe(`/${bucket.bucket}/media/local/${id}/1.png`);
    expect(verifyPresigned(o.stored_url!, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    const provider = await fetchBytes(o.url);
    const stored = await fetchBytes(o.stored_url!);
    expect(stored.status).toBe(200);
    expect(stored.body.equals(provider.body)).toBe(true);
    expect(o.stored_type).toBe('image/png');
    const link = r.content.find((c) => c.type === 'resource_link');
    expect(link).toMatchObject({ uri: o.stored_url, mimeType: 'image/png' });
    expect(text(r)).toContain(`stored_url: ${o.stored_url}`);
  });

  it('jobs_get answers a freshly signed link every time, and never fetches the output again', async () => {
    const r = await succeeded(server, 'a lantern read twice');
    const id = sc(r).job_id as string;
    const keys = bucket.keys().length;
    const again = await server.call('jobs_get', { job_id: id });
    const url = outs(again)[0].stored_url!;
    expect(verifyPresigned(url, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    expect((await fetchBytes(url)).status).toBe(200);
    expect(bucket.keys().length).toBe(keys);
  });

  it('an unknown job is NOT_FOUND and signs nothing', async () => {
    const r = await server.call('jobs_get', { job_id: 'job_doesnotexist' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^NOT_FOUND/);
  });
});

describe('an expired link, and jobs_get signing a fresh one', () => {
  let short: StdioServer;
  beforeAll(async () => {
    short = await spawnStdio({ ...bucket.env, MEDIAGEN_POLL_MS: '50' }, [
      '--sandbox',
      '--output-store',
      `s3://${bucket.bucket}/short`,
      '--output-url-ttl',
      '1',
    ]);
  });
  afterAll(() => short?.close());

  it('the link fails once its TTL is past; jobs_get gives one that works', async () => {
    const r = await succeeded(short, 'a short-lived lantern');
    const first = outs(r)[0].stored_url!;
    expect(new URL(first).searchParams.get('X-Amz-Expires')).toBe('1');
    let status = 200;
    for (let i = 0; i < 60 && status === 200; i++) {
      await new Promise((res) => setTimeout(res, 500));
      status = (await fetchBytes(first)).status;
    }
    expect(status).toBe(403);
    expect(verifyPresigned(first, { method: 'GET', ...creds })).toEqual({ ok: false, reason: 'expired' });
    const again = await short.call('jobs_get', { job_id: sc(r).job_id });
    const fresh = outs(again)[0].stored_url!;
    expect(verifyPresigned(fresh, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    const got = await fetchBytes(fresh);
    expect(got.status).toBe(200);
    expect(got.body.equals((await fetchBytes(outs(r)[0].url)).body)).toBe(true);
  });

  it('without an input folder there is no media_upload tool', async () => {
    const { tools } = await short.client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('media_upload');
  });
});

describe('outputs whose bytes are not what the provider declared', () => {
  let hostile: HostileProvider;
  let files: MediaServer;
  let s: StdioServer;
  beforeAll(async () => {
    hostile = await startHostileProvider();
    files = await serveFiles({ '/voice.png': { type: 'image/png', data: (await mediaFile('sample.wav'))!.data } });
    s = await spawnStdio(
      {
        ...bucket.env,
        ACME_API_KEY: ACME_KEY,
        ACME_BASE_URL: hostile.url,
        MEDIAGEN_POLL_MS: '50',
        MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
      },
      ['--catalogue', ACME_FILE, '--output-store', `s3://${bucket.bucket}/typed`],
    );
  });
  afterAll(async () => {
    await s?.close();
    await files?.close();
    await hostile?.close();
  });

  it('text, audio and a metadata address are refused per output; the real image is kept; nothing is fetched twice', async () => {
    hostile.setOutputs([
      `${hostile.url}/secret`,
      `${files.url}/voice.png`,
      'http://169.254.169.254/latest/meta-data/x.png',
      `${hostile.url}/media/real.png`,
    ]);
    const created = await s.call('acme_image_create', { prompt: 'a paper boat' });
    expect(created.isError, text(created)).toBeFalsy();
    const id = sc(created).job_id as string;
    const r = await s.call('jobs_wait', { job_id: id, wait_seconds: 20 });
    expect(r.isError, text(r)).toBeFalsy();
    const o = outs(r);
    expect(o[0].store_error).toMatch(/not a known media type/);
    expect(o[1].store_error).toMatch(/audio\/(x-)?wav, not the image/);
    expect(o[2].store_error).toMatch(/refused/);
    expect(o.slice(0, 3).every((x) => x.stored_url === undefined)).toBe(true);
    expect(o[3].stored_url).toBeDefined();
    // The kept image, and its preview's thumbnail cached beside it.
    expect(
      bucket
        .keys()
        .filter((k) => k.startsWith(`typed/local/${id}/`))
        .sort(),
    ).toEqual([`typed/local/${id}/4.png`, `typed/local/${id}/4.thumb.jpg`]);
    expect(text(r)).toMatch(/not kept: its bytes are not a known media type/);
    const hits = [hostile.hits('/secret'), files.hits('/voice.png'), hostile.hits('/media/real.png')];
    await s.call('jobs_get', { job_id: id });
    expect([hostile.hits('/secret'), files.hits('/voice.png'), hostile.hits('/media/real.png')]).toEqual(hits);
  });
});

describe('media_upload over stdio', () => {
  const upload = (path: string) => server.call('media_upload', { path });

  it('a good file gives a signed URL, valid 24 h, that serves its bytes', async () => {
    const r = await upload('good.png');
    expect(r.isError, text(r)).toBeFalsy();
    const { url, key, content_type, expires_at } = sc(r) as Record<string, string>;
    expect(key).toMatch(/^media\/local\/uploads\/[0-9a-f]{32}\.png$/);
    expect(content_type).toBe('image/png');
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('86400');
    expect(verifyPresigned(url, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    const got = await fetchBytes(url);
    expect(got.status).toBe(200);
    expect(got.body.equals(png)).toBe(true);
  });

  it.each([
    ['a symbolic link to a file outside', 'link.png', /symbolic link/],
    ['a path with ..', 'sub/../good.png', /"\.\."/],
    ['a path out of the folder', '../secret.png', /"\.\."/],
    ['an absolute path outside', join(outside, 'secret.png'), /outside the input folder/],
    ['a file over the cap', 'big.png', /over the 1048576-byte upload limit/],
    ['a file that is not media', 'note.txt', /not an image, video or audio/],
  ])('refuses %s, storing nothing', async (_what, path, why) => {
    const before = bucket.keys().length;
    const r = await upload(path);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^BAD_ARGUMENTS: media_upload/);
    expect(text(r)).toMatch(why);
    expect(bucket.keys().length).toBe(before);
  });
});

describe('keeping outputs in the local folder', () => {
  let local: StdioServer;
  const out = join(tempDir('mediagen-keep-local-'), 'out');
  beforeAll(async () => {
    local = await spawnStdio({ MEDIAGEN_POLL_MS: '50', MEDIAGEN_OUTPUT_DIR: out }, ['--sandbox', '--keep-outputs']);
  });
  afterAll(() => local?.close());

  it("--keep-outputs with a local store saves the file; stored_url is its path, the resource_link stays the provider's URL", async () => {
    const r = await succeeded(local, 'a lantern on disk');
    const id = sc(r).job_id as string;
    const [o] = outs(r);
    expect(o.stored_url).toBe(join(out, `${id}-1.png`));
    expect(o.path).toBe(o.stored_url);
    expect(existsSync(o.stored_url!)).toBe(true);
    expect(r.content.find((c) => c.type === 'resource_link')).toMatchObject({ uri: o.url });
    const { tools } = await local.client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('media_upload');
  });
});

describe('an output store that cannot work', () => {
  it('refuses to start with NOT_CONFIGURED (exit 2), naming the variables, never starting to serve', () => {
    const r = spawnSync(process.execPath, [CLI, '--sandbox', '--output-store', 's3://some-bucket/p'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir() },
      input: '',
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /NOT_CONFIGURED: --output-store s3:\/\/some-bucket\/p needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    expect(r.stdout).toBe('');
  });

  it('--keep-outputs with a local store but no output folder refuses to start too', () => {
    const r = spawnSync(process.execPath, [CLI, '--sandbox', '--keep-outputs'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir() },
      input: '',
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NOT_CONFIGURED: --keep-outputs with the local output store needs an output folder/);
  });
});
