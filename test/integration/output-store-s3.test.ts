/**
 * The S3 output store against a real S3-compatible server (s3rver on loopback): objects PUT with their
 * type and length, presigned GET and PUT links that pass an independent SigV4 check (s3rver does not
 * check signatures) and work against the server, keys under the principal's prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { S3Store } from '../../src/outputs/s3.js';
import { principalPrefix, principalSegment } from '../../src/outputs/store.js';
import { makePng } from '../../src/sandbox/media.js';
import { S3_CREDS, startS3, type TestBucket } from '../helpers/s3.js';
import { verifyPresigned } from '../helpers/sigv4.js';

let bucket: TestBucket;
let s3: S3Store;
const png = makePng(16, 16);
const creds = S3_CREDS;
const keys = { accessKeyId: S3_CREDS.accessKeyId, secretAccessKey: S3_CREDS.secretAccessKey };

beforeAll(async () => {
  bucket = await startS3();
  s3 = new S3Store({
    bucket: bucket.bucket,
    prefix: 'media/out',
    region: 'us-east-1',
    endpoint: bucket.endpoint,
    forcePathStyle: true,
    ...keys,
  });
});
afterAll(async () => {
  await s3?.close();
  await bucket?.close();
});

const get = async (url: string) => {
  const r = await request(url);
  return { status: r.statusCode, type: r.headers['content-type'], body: Buffer.from(await r.body.arrayBuffer()) };
};

describe('S3 output store on a real S3-compatible server', () => {
  it('PUTs an object under the principal prefix; its presigned GET passes SigV4 and serves the same bytes', async () => {
    const key = s3.outputKey('alice', 'job_1', 1, 'png');
    expect(key).toBe('media/out/alice/job_1/1.png');
    await s3.putStream(key, Readable.from([png]), { contentType: 'image/png', bytes: png.length, timeoutMs: 10_000 });
    expect(bucket.keys()).toContain(key);
    expect(bucket.object(key).equals(png)).toBe(true);
    const url = await s3.link(key, 600);
    expect(verifyPresigned(url, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('600');
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(r.type).toBe('image/png');
    expect(r.body.equals(png)).toBe(true);
  });

  it('a presigned PUT signs Content-Type and Content-Length; the server accepts it and the GET serves it', async () => {
    const key = s3.uploadKey('bob', 'abc123', 'png');
    const put = await s3.presignPut(key, 'image/png', png.length, 900);
    const headers = { 'Content-Type': 'image/png', 'Content-Length': String(png.length) };
    expect(verifyPresigned(put, { method: 'PUT', ...creds, headers })).toMatchObject({
      ok: true,
      signedHeaders: ['content-length', 'content-type', 'host'],
    });
    expect(verifyPresigned(put, { method: 'PUT', ...creds, headers: { 'Content-Type': 'image/png' } })).toMatchObject({
      ok: false,
    });
    expect(verifyPresigned(put, { method: 'GET', ...creds })).toMatchObject({ ok: false });
    const res = await request(put, { method: 'PUT', headers, body: png });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    const r = await get(await s3.link(key, 900));
    expect(r.body.equals(png)).toBe(true);
  });

  it('keys of principals with @, dots and escaped characters sign and serve too', async () => {
    const key = s3.outputKey('ops@example.com/x y', 'job_3', 1, 'png');
    expect(key).toBe('media/out/ops@example.com~2fx~20y/job_3/1.png');
    await s3.putStream(key, Readable.from([png]), { contentType: 'image/png', bytes: png.length, timeoutMs: 10_000 });
    const url = await s3.link(key, 60);
    expect(verifyPresigned(url, { method: 'GET', ...creds })).toMatchObject({ ok: true });
    expect((await get(url)).body.equals(png)).toBe(true);
    expect(bucket.keys()).toContain(key);
  });

  it('a link past its TTL is refused by the server; a fresh one works', async () => {
    const key = s3.outputKey('alice', 'job_2', 1, 'png');
    await s3.putStream(key, Readable.from([png]), { contentType: 'image/png', bytes: png.length, timeoutMs: 10_000 });
    const short = await s3.link(key, 1);
    let status = 200;
    for (let i = 0; i < 60 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await get(short)).status;
    }
    expect(status).toBe(403);
    expect(verifyPresigned(short, { method: 'GET', ...creds })).toEqual({ ok: false, reason: 'expired' });
    expect((await get(await s3.link(key, 60))).status).toBe(200);
  });

  it('an unreachable bucket is an error naming the bucket, never the credentials', async () => {
    const dead = new S3Store({
      bucket: 'nowhere',
      prefix: '',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      forcePathStyle: true,
      accessKeyId: 'AKIDSECRETID',
      secretAccessKey: 'SECRETSECRET',
    });
    const err = await dead
      .putStream('k', Readable.from([png]), { contentType: 'image/png', bytes: png.length, timeoutMs: 5_000 })
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/nowhere could not be reached/);
    expect((err as Error).message).not.toMatch(/AKIDSECRETID|SECRETSECRET/);
    await dead.close();
  });

  it('virtual-host URLs by default; path style when forced; principals are one safe, distinct key segment', () => {
    const aws = new S3Store({
      bucket: 'examplebucket',
      prefix: '',
      region: 'eu-west-1',
      forcePathStyle: false,
      ...keys,
    });
    expect(aws.objectUrl('a/b.png').toString()).toBe('https://examplebucket.s3.eu-west-1.amazonaws.com/a/b.png');
    expect(s3.objectUrl('a/b.png').toString()).toBe(`${bucket.endpoint}/${bucket.bucket}/a/b.png`);
    expect(principalSegment('alice@example.com')).toBe('alice@example.com');
    expect(principalSegment('..')).toBe('~2e.');
    expect(principalSegment('a/b')).toBe('a~2fb');
    expect(principalSegment('a~2fb')).not.toBe(principalSegment('a/b'));
    expect(s3.owns('alice', 'media/out/alice/job_1/1.png')).toBe(true);
    expect(s3.owns('bob', 'media/out/alice/job_1/1.png')).toBe(false);
    expect(s3.owns('ali', 'media/out/alice/job_1/1.png')).toBe(false);
    expect(principalPrefix('', 'local')).toBe('local/');
  });
});
