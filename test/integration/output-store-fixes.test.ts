/**
 * The output store's edges against a real S3-compatible server (s3rver on loopback) and a real folder:
 * an IP-literal or single-label endpoint without forced path style, a session token in presigned links,
 * a PUT bounded as a whole (not only its idle gaps), S3's 5 GiB limit for one PUT, and links for outputs
 * kept in another store (or recorded before stores were named) that never throw.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { linkMaker } from '../../src/outputs/links.js';
import { LocalStore } from '../../src/outputs/local.js';
import { S3Store } from '../../src/outputs/s3.js';
import { makePng } from '../../src/sandbox/media.js';
import type { JobOutput, JobRecord } from '../../src/store/store.js';
import { tempDir } from '../helpers/in-memory.js';
import { S3_CREDS, startS3, type TestBucket } from '../helpers/s3.js';
import { verifyPresigned } from '../helpers/sigv4.js';

let bucket: TestBucket;
const png = makePng(8, 8);
const keys = { accessKeyId: S3_CREDS.accessKeyId, secretAccessKey: S3_CREDS.secretAccessKey };
const settings = (endpoint: string, more: Partial<ConstructorParameters<typeof S3Store>[0]> = {}) => ({
  bucket: bucket.bucket,
  prefix: 'p',
  region: S3_CREDS.region,
  endpoint,
  forcePathStyle: false,
  ...keys,
  ...more,
});

beforeAll(async () => {
  bucket = await startS3();
});
afterAll(async () => {
  await bucket?.close();
});

const job = (outputs: JobOutput[], principal = 'local'): JobRecord =>
  ({ id: 'job_x', principal, outputs, status: 'succeeded' }) as unknown as JobRecord;

describe('S3 addressing without MEDIAGEN_S3_FORCE_PATH_STYLE', () => {
  it('an IP-literal endpoint uses path style: the bucket is in every URL, and PUT and GET work', async () => {
    const s3 = new S3Store(settings(bucket.endpoint));
    try {
      const key = s3.outputKey('local', 'job_ip', 1, 'png');
      expect(s3.objectUrl(key).pathname).toBe(`/${bucket.bucket}/${key}`);
      await s3.putStream(key, Readable.from([png]), { contentType: 'image/png', bytes: png.length, timeoutMs: 10_000 });
      expect(bucket.keys()).toContain(key);
      const url = await s3.link(key, 60);
      expect(new URL(url).pathname).toBe(`/${bucket.bucket}/${key}`);
      expect(verifyPresigned(url, { method: 'GET', ...S3_CREDS })).toMatchObject({ ok: true });
      const r = await request(url);
      expect(r.statusCode).toBe(200);
      expect(Buffer.from(await r.body.arrayBuffer()).equals(png)).toBe(true);
    } finally {
      await s3.close();
    }
  });

  it('localhost and [::1] use path style too; a normal host name keeps the bucket in the host', () => {
    const port = new URL(bucket.endpoint).port;
    for (const host of ['localhost', '[::1]']) {
      const s3 = new S3Store(settings(`http://${host}:${port}`));
      expect(s3.objectUrl('a.png').toString()).toBe(`http://${host}:${port}/${bucket.bucket}/a.png`);
    }
    const named = new S3Store(settings('https://s3.example.com'));
    expect(named.objectUrl('a.png').toString()).toBe(`https://${bucket.bucket}.s3.example.com/a.png`);
  });

  it('a bucket that cannot be a host name under the endpoint is refused when the store is made', () => {
    expect(() => new S3Store(settings('http://s3.example.com', { bucket: 'bad bucket' }))).toThrow(
      /NOT_CONFIGURED: .*MEDIAGEN_S3_FORCE_PATH_STYLE/,
    );
  });
});

describe('temporary credentials', () => {
  it('AWS_SESSION_TOKEN is carried in the signed query of GET and PUT links', async () => {
    const s3 = new S3Store(settings(bucket.endpoint, { sessionToken: 'FQoGZXIvYXdzE-session/token+x=' }));
    for (const url of [
      await s3.link('p/local/j/1.png', 60),
      await s3.presignPut('p/local/u.png', 'image/png', 3, 60),
    ]) {
      const q = new URL(url).searchParams;
      expect(q.get('X-Amz-Security-Token')).toBe('FQoGZXIvYXdzE-session/token+x=');
      const method = url.includes('u.png') ? 'PUT' : 'GET';
      const headers: Record<string, string> =
        method === 'PUT' ? { 'content-type': 'image/png', 'content-length': '3' } : {};
      expect(verifyPresigned(url, { method, ...S3_CREDS, headers })).toMatchObject({ ok: true });
      // The token is signed in: dropping it breaks the signature.
      const bare = new URL(url);
      bare.searchParams.delete('X-Amz-Security-Token');
      expect(verifyPresigned(bare.toString(), { method, ...S3_CREDS, headers })).toMatchObject({ ok: false });
    }
    await s3.close();
  });
});

describe('a PUT is bounded as a whole', () => {
  let slow: Server;
  let endpoint: string;
  beforeAll(async () => {
    // Answers at once, then trickles its body a byte at a time forever: no idle gap is ever long.
    slow = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        const t = setInterval(() => res.write(' '), 100);
        res.on('close', () => clearInterval(t));
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  });

  it('a bucket that never finishes answering is an error once the put timeout is spent', async () => {
    const s3 = new S3Store(settings(endpoint));
    const err = await s3
      .putStream('p/local/j/1.png', Readable.from([png]), {
        contentType: 'image/png',
        bytes: png.length,
        timeoutMs: 1_500,
      })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toMatch(/did not finish within 2 s/);
    await s3.close();
  }, 30_000);

  it('more than 5 GiB in one PUT is refused before anything is sent', async () => {
    const s3 = new S3Store(settings(endpoint));
    let sent = false;
    const body = new Readable({
      read() {
        sent = true;
        this.push(null);
      },
    });
    await expect(
      s3.putStream('p/local/j/1.mp4', body, { contentType: 'video/mp4', bytes: 5 * 1024 ** 3 + 1, timeoutMs: 5_000 }),
    ).rejects.toThrow(/5 GiB/);
    expect(sent).toBe(false);
    expect(s3.maxObjectBytes).toBe(5 * 1024 ** 3);
    await s3.close();
  });
});

describe('links for outputs kept in another store, and old records', () => {
  const dir = tempDir('mediagen-out-');
  const other = tempDir('mediagen-other-');
  writeFileSync(join(dir, 'job_x-1.png'), png);
  const local = new LocalStore(dir);
  const s3 = (): S3Store => new S3Store(settings(bucket.endpoint));
  const keptIn = (storedIn: string | undefined, storedKey: string): JobOutput => ({
    url: 'https://provider.example/1.png',
    kind: 'image',
    storedKey,
    ...(storedIn ? { storedIn } : {}),
  });

  it('an s3-kept output read with a local store gets a note, not an error', async () => {
    const o = keptIn('s3://bucket-a', 'p/local/job_x/1.png');
    const links = await linkMaker(local, 60)(job([o]));
    expect(links.urls.size).toBe(0);
    expect(links.notes?.get(o)).toBe("kept in s3://bucket-a, not this server's output store");
    // A local store without a folder cannot link anything: still a note, never a throw.
    const none = await linkMaker(new LocalStore(undefined), 60)(job([keptIn(local.identity, 'job_x-1.png')]));
    expect([...(none.notes?.values() ?? [])]).toEqual(['kept in ' + dir + ", not this server's output store"]);
  });

  it('another bucket, or another output folder, is not this store either', async () => {
    const store = s3();
    const o = keptIn('s3://bucket-a', 'p/local/job_x/1.png');
    expect((await linkMaker(store, 60)(job([o]))).notes?.get(o)).toMatch(/s3:\/\/bucket-a, not this server's/);
    const mine = keptIn(store.identity, 'p/local/job_x/1.png');
    expect((await linkMaker(store, 60)(job([mine]))).urls.get(mine)).toMatch(/^http:\/\/127\.0\.0\.1/);
    // The same bucket name at another S3-compatible endpoint is another store: no link signed for it here.
    const twin = new S3Store(settings('http://127.0.0.2:9'));
    expect(twin.identity).not.toBe(store.identity);
    const elsewhere = await linkMaker(twin, 60)(job([mine]));
    expect(elsewhere.urls.size).toBe(0);
    expect(elsewhere.notes?.get(mine)).toBe(`kept in ${store.identity}, not this server's output store`);
    await twin.close();
    const far = keptIn(new LocalStore(other).identity, 'job_x-1.png');
    const links = await linkMaker(local, 60)(job([far]));
    expect(links.urls.size).toBe(0);
    expect(links.notes?.get(far)).toBe(`kept in ${other}, not this server's output store`);
    await store.close();
  });

  it('over HTTP a local copy is "kept on the server": no path on its disk is shown', async () => {
    const o = { ...keptIn(local.identity, 'job_x-1.png'), path: join(dir, 'job_x-1.png') };
    const remote = await linkMaker(local, 60, true)(job([o]));
    expect(remote.urls.size).toBe(0);
    expect(remote.notes?.get(o)).toBe('kept on the server, in its output folder');
    expect(remote.hidePaths?.has(o)).toBe(true);
    const stdio = await linkMaker(local, 60)(job([o]));
    expect(stdio.urls.get(o)).toBe(join(dir, 'job_x-1.png'));
  });

  it('records without storedIn: linked only when the key plausibly lies in this store', async () => {
    const store = s3();
    const underPrefix = keptIn(undefined, 'p/local/job_x/1.png');
    const otherPrefix = keptIn(undefined, 'q/local/job_x/1.png');
    const s3Links = await linkMaker(store, 60)(job([underPrefix, otherPrefix]));
    expect(s3Links.urls.has(underPrefix)).toBe(true);
    expect(s3Links.urls.has(otherPrefix)).toBe(false);
    expect(s3Links.notes?.get(otherPrefix)).toMatch(/not this server's/);
    const file = keptIn(undefined, 'job_x-1.png');
    const gone = keptIn(undefined, 'job_x-2.png');
    const s3Key = keptIn(undefined, 'p/local/job_x/1.png');
    const localLinks = await linkMaker(local, 60)(job([file, gone, s3Key]));
    expect(localLinks.urls.get(file)).toBe(join(dir, 'job_x-1.png'));
    expect(localLinks.urls.has(gone)).toBe(false);
    expect(localLinks.urls.has(s3Key)).toBe(false);
    expect(localLinks.notes?.size).toBe(2);
    await store.close();
  });
});
