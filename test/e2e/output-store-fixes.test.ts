/**
 * The output store's edges end to end, with the built server, real SDK Clients (stdio and Streamable
 * HTTP) and a real S3-compatible server (s3rver): a job kept in one store read by a server with another,
 * an IP-literal endpoint without forced path style, media_upload refusing a way out of its folder (a
 * linked sub-folder, a FIFO) and accepting a name that merely starts with "..", a 15-minute PUT link over
 * HTTP, and no server path shown to remote callers of a local store.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { makePng } from '../../src/sandbox/media.js';
import { ACME_KEY, startHostileProvider } from '../helpers/hostile-provider.js';
import { connectHttp, spawnHttp, writeTokens } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { ACME_FILE } from '../helpers/paths.js';
import { S3_CREDS, startS3, type TestBucket } from '../helpers/s3.js';
import { verifyPresigned } from '../helpers/sigv4.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

type Out = { url: string; stored_url?: string; stored_note?: string; path?: string | null };
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const outs = (r: CallToolResult) => sc(r).outputs as Out[];
const png = makePng(12, 12);
let bucket: TestBucket;
/** The bucket's environment without MEDIAGEN_S3_FORCE_PATH_STYLE: the endpoint is http://127.0.0.1:<port>. */
let env: Record<string, string>;

beforeAll(async () => {
  bucket = await startS3();
  env = Object.fromEntries(Object.entries(bucket.env).filter(([k]) => k !== 'MEDIAGEN_S3_FORCE_PATH_STYLE'));
});
afterAll(async () => {
  await bucket?.close();
});

async function succeeded(s: { call: StdioServer['call'] }, prompt: string): Promise<CallToolResult> {
  const created = await s.call('phaya_text_to_image', { prompt });
  expect(created.isError, text(created)).toBeFalsy();
  const r = await s.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: 30 });
  expect(r.isError, text(r)).toBeFalsy();
  expect(sc(r).status).toBe('succeeded');
  return r;
}

describe('a job kept in one store, read by a server with another', () => {
  const stateDir = tempDir('mediagen-state-');
  let id: string;

  it('kept under s3 with an IP-literal endpoint and no forced path style: the bucket is in the link', async () => {
    const a = await spawnStdio({ ...env, MEDIAGEN_STATE_DIR: stateDir, MEDIAGEN_POLL_MS: '50' }, [
      '--sandbox',
      '--output-store',
      `s3://${bucket.bucket}/a`,
    ]);
    try {
      const r = await succeeded(a, 'a lantern kept in a bucket');
      id = sc(r).job_id as string;
      const url = outs(r)[0].stored_url!;
      expect(new URL(url).pathname).toBe(`/${bucket.bucket}/a/local/${id}/1.png`);
      expect(verifyPresigned(url, { method: 'GET', ...S3_CREDS })).toMatchObject({ ok: true });
      const got = await request(url);
      expect(got.statusCode).toBe(200);
      expect(
        Buffer.from(await got.body.arrayBuffer())
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
    } finally {
      await a.close();
    }
  });

  it.each([
    ['the local store without a folder', [] as string[], () => ({})],
    ['the local store with a folder', ['--keep-outputs'], () => ({ MEDIAGEN_OUTPUT_DIR: join(tempDir(), 'out') })],
    ['another bucket', ['--output-store', 's3://bucket-b/a'], () => env],
  ])('with %s, jobs_get, jobs_wait and jobs_cancel answer with a note, never an error', async (_what, args, more) => {
    const b = await spawnStdio({ ...more(), MEDIAGEN_STATE_DIR: stateDir, MEDIAGEN_POLL_MS: '50' }, [
      '--sandbox',
      ...args,
    ]);
    try {
      for (const tool of ['jobs_get', 'jobs_wait', 'jobs_cancel']) {
        const r = await b.call(tool, { job_id: id });
        expect(r.isError, `${tool}: ${text(r)}`).toBeFalsy();
        const [o] = outs(r);
        expect(o.stored_url).toBeUndefined();
        expect(o.stored_note).toBe(
          `kept in s3://${bucket.bucket}@${new URL(bucket.endpoint).host}, not this server's output store`,
        );
        expect(text(r)).toContain(
          `(kept in s3://${bucket.bucket}@${new URL(bucket.endpoint).host}, not this server's output store)`,
        );
        expect(r.content.find((c) => c.type === 'resource_link')).toMatchObject({ uri: o.url });
      }
    } finally {
      await b.close();
    }
  });
});

describe("keeping within what is left of a jobs_get's budget", () => {
  it('a poll that used up the budget leaves no time to wait for the keep; the keep goes on and a later read shows it', async () => {
    const hostile = await startHostileProvider();
    const s = await spawnStdio(
      {
        ...env,
        ACME_API_KEY: ACME_KEY,
        ACME_BASE_URL: hostile.url,
        MEDIAGEN_POLL_MS: '50',
        MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
        MEDIAGEN_WAIT_SECONDS: '1',
      },
      ['--catalogue', ACME_FILE, '--no-worker', '--output-store', `s3://${bucket.bucket}/budget`],
    );
    try {
      hostile.setOutputs([`${hostile.url}/media/one.png`]);
      hostile.setStatus('processing');
      const created = await s.call('acme_image_create', { prompt: 'a slow poll' });
      expect(created.isError, text(created)).toBeFalsy();
      const id = sc(created).job_id as string;
      hostile.setStatus('completed');
      hostile.delayStatus(2_500); // the poll alone takes longer than the 1 s budget
      const r = await s.call('jobs_get', { job_id: id });
      expect(r.isError, text(r)).toBeFalsy();
      expect(sc(r).status).toBe('succeeded');
      expect(outs(r)[0].stored_url).toBeUndefined();
      hostile.delayStatus(0);
      let url: string | undefined;
      for (let i = 0; i < 60 && !url; i++) {
        url = outs(await s.call('jobs_get', { job_id: id }))[0].stored_url;
        if (!url) await new Promise((res) => setTimeout(res, 250));
      }
      expect(url).toBeDefined();
      expect(bucket.keys()).toContain(`budget/local/${id}/1.png`);
      expect(hostile.hits('/media/one.png')).toBe(1);
    } finally {
      await s.close();
      await hostile.close();
    }
  });
});

describe('an output already saved by download: true', () => {
  it('is copied into the store from the output folder, not fetched from the provider again', async () => {
    const probe = await startS3('late');
    const port = new URL(probe.endpoint).port;
    await probe.close(); // the bucket is down while the job succeeds and its output is downloaded
    const hostile = await startHostileProvider();
    const out = join(tempDir('mediagen-saved-'), 'out');
    const s = await spawnStdio(
      {
        ...env,
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
        ACME_API_KEY: ACME_KEY,
        ACME_BASE_URL: hostile.url,
        MEDIAGEN_POLL_MS: '50',
        MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
        MEDIAGEN_OUTPUT_DIR: out,
      },
      ['--catalogue', ACME_FILE, '--no-worker', '--output-store', 's3://late/k'],
    );
    let late: TestBucket | undefined;
    try {
      hostile.setOutputs([`${hostile.url}/media/saved.png`]);
      const created = await s.call('acme_image_create', { prompt: 'saved first' });
      expect(created.isError, text(created)).toBeFalsy();
      const id = sc(created).job_id as string;
      const r = await s.call('jobs_wait', { job_id: id, wait_seconds: 20, download: true });
      expect(r.isError, text(r)).toBeFalsy();
      const [o] = outs(r);
      expect(o.stored_url).toBeUndefined();
      expect(o.path).toMatch(new RegExp(`^${out}/`));
      const fetched = hostile.hits('/media/saved.png');
      late = await startS3('late', Number(port));
      const again = await s.call('jobs_get', { job_id: id });
      expect(again.isError, text(again)).toBeFalsy();
      expect(outs(again)[0].stored_url).toBeDefined();
      expect(late.object(`k/local/${id}/1.png`).equals(readFileSync(o.path!))).toBe(true);
      expect(hostile.hits('/media/saved.png')).toBe(fetched);
    } finally {
      await s.close();
      await late?.close();
      await hostile.close();
    }
  });
});

describe('media_upload over stdio: the file is opened first, then checked', () => {
  const inputDir = tempDir('mediagen-input-');
  const outside = tempDir('mediagen-outside-');
  let s: StdioServer;
  beforeAll(async () => {
    mkdirSync(join(outside, 'dir'));
    writeFileSync(join(outside, 'dir', 'secret.png'), makePng(5, 5));
    symlinkSync(join(outside, 'dir'), join(inputDir, 'linked'));
    execFileSync('mkfifo', [join(inputDir, 'pipe.png')]);
    writeFileSync(join(inputDir, '..foo.png'), png);
    mkdirSync(join(inputDir, 'sub'));
    writeFileSync(join(inputDir, 'sub', 'inner.png'), png);
    s = await spawnStdio({ ...env, MEDIAGEN_INPUT_DIR: inputDir }, [
      '--sandbox',
      '--output-store',
      `s3://${bucket.bucket}/up`,
    ]);
  });
  afterAll(() => s?.close());

  it.each([
    ['a file in a sub-folder that is a link to a folder outside', 'linked/secret.png', /leads out of the input folder/],
    ['a FIFO (at once, without waiting for a writer)', 'pipe.png', /not a regular file/],
  ])('refuses %s, storing nothing', async (_what, path, why) => {
    const before = bucket.keys().length;
    const r = await s.call('media_upload', { path });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^BAD_ARGUMENTS: media_upload/);
    expect(text(r)).toMatch(why);
    expect(bucket.keys().length).toBe(before);
  });

  it.each([['..foo.png'], ['sub/inner.png']])('accepts %s (a name, not a way up)', async (path) => {
    const r = await s.call('media_upload', { path });
    expect(r.isError, text(r)).toBeFalsy();
    const { key, url } = sc(r) as Record<string, string>;
    expect(bucket.object(key).equals(png)).toBe(true);
    expect(new URL(url).pathname).toBe(`/${bucket.bucket}/${key}`);
  });
});

describe('over HTTP', () => {
  it("media_upload's PUT link lives 15 minutes, its GET link the long lifetime; over 5 GiB is refused", async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {} });
    const server = await spawnHttp({ ...env, MEDIAGEN_STATE_DIR: dir, MEDIAGEN_UPLOAD_MAX_MB: '6000' }, [
      '--sandbox',
      '--tokens-file',
      t.file,
      '--output-store',
      `s3://${bucket.bucket}/hosted`,
    ]);
    try {
      const alice = await connectHttp(server.url, t.tokens.alice);
      const before = Date.now();
      const r = await alice.call('media_upload', { filename: 'a.png', content_type: 'image/png', size: png.length });
      expect(r.isError, text(r)).toBeFalsy();
      const s = sc(r) as { put_url: string; get_url: string; put_expires_at: string; expires_at: string };
      expect(new URL(s.put_url).searchParams.get('X-Amz-Expires')).toBe('900');
      expect(new URL(s.get_url).searchParams.get('X-Amz-Expires')).toBe('86400');
      const putEnds = Date.parse(s.put_expires_at) - before;
      expect(putEnds).toBeGreaterThan(14 * 60_000);
      expect(putEnds).toBeLessThan(16 * 60_000);
      expect(Date.parse(s.expires_at) - before).toBeGreaterThan(23 * 3_600_000);
      expect(text(r)).toContain(`put_url works until ${s.put_expires_at}`);
      const headers = { 'Content-Type': 'image/png', 'Content-Length': String(png.length) };
      expect(verifyPresigned(s.put_url, { method: 'PUT', ...S3_CREDS, headers })).toMatchObject({ ok: true });
      // Under the 6000 MB cap but over S3's 5 GiB for one PUT: refused, nothing signed.
      const huge = await alice.call('media_upload', {
        filename: 'big.mp4',
        content_type: 'video/mp4',
        size: 5 * 1024 ** 3 + 1,
      });
      expect(huge.isError).toBe(true);
      expect(text(huge)).toMatch(/^BAD_ARGUMENTS: media_upload: size \d+ is over S3's 5 GiB limit/);
      expect(text(huge)).not.toContain('X-Amz-Signature');
      await alice.close();
    } finally {
      await server.stop();
    }
  });

  it("a local store's kept file is 'kept on the server': no path on the server's disk reaches the client", async () => {
    const dir = tempDir();
    const out = join(tempDir('mediagen-hosted-out-'), 'out');
    const t = writeTokens(dir, { alice: {} });
    const server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50', MEDIAGEN_OUTPUT_DIR: out }, [
      '--sandbox',
      '--tokens-file',
      t.file,
      '--keep-outputs',
    ]);
    try {
      const alice = await connectHttp(server.url, t.tokens.alice);
      const r = await succeeded(alice, 'a lantern on the server');
      const again = await alice.call('jobs_get', { job_id: sc(r).job_id });
      for (const res of [r, again]) {
        const [o] = outs(res);
        expect(o.stored_url).toBeUndefined();
        expect(o.path).toBeNull();
        expect(o.stored_note).toBe('kept on the server, in its output folder');
        expect(JSON.stringify(res)).not.toContain(out);
      }
      await alice.close();
    } finally {
      await server.stop();
    }
  });
});
