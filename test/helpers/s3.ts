/**
 * A real S3-compatible server on loopback for tests: s3rver (a devDependency) over a temp directory,
 * with one bucket. s3rver checks a presigned link's expiry and access key id (its only account is
 * S3RVER) but not SigV4 signatures, and it serves unsigned GETs: tests verify every signature themselves
 * with ./sigv4.ts, never by trusting s3rver. The secret is not the key id (s3rver never uses it), so a
 * signature made with the key id in place of the secret cannot pass the verifier.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { tempDir } from './in-memory.js';

export const S3_KEY_ID = 'S3RVER';
export const S3_SECRET = 'test-secret-S3RVER-not-the-key-id';
export const S3_REGION = 'us-east-1';
/** What ./sigv4.ts needs to check the server's links: the real secret and the store's region. */
export const S3_CREDS = { accessKeyId: S3_KEY_ID, secretAccessKey: S3_SECRET, region: S3_REGION };

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (o: Record<string, unknown>) => S3rverInstance;

export interface TestBucket {
  /** http://127.0.0.1:<port> (path style: <endpoint>/<bucket>/<key>). */
  endpoint: string;
  bucket: string;
  /** The environment a server needs to use this bucket as its output store. */
  env: Record<string, string>;
  /** Every object key in the bucket, sorted. */
  keys(): string[];
  /** The stored bytes of an object, read from s3rver's directory. */
  object(key: string): Buffer;
  close(): Promise<void>;
}

/** `port`: 0 for any free one, or a given one (to bring a bucket back where a server expects it). */
export async function startS3(bucket = 'media-test', port = 0): Promise<TestBucket> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
  const directory = tempDir('mediagen-s3-');
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const root = join(directory, bucket);
  // s3rver keeps each object as `<key>._S3rver_object` (plus metadata files) under the bucket folder.
  const walk = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((n) => {
          const p = join(dir, n);
          return statSync(p).isDirectory() ? walk(p) : n.endsWith('._S3rver_object') ? [p] : [];
        })
      : [];
  return {
    endpoint,
    bucket,
    env: {
      AWS_ACCESS_KEY_ID: S3_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3_SECRET,
      AWS_REGION: S3_REGION,
      AWS_ENDPOINT_URL_S3: endpoint,
      MEDIAGEN_S3_FORCE_PATH_STYLE: '1',
    },
    keys: () =>
      walk(root)
        .map((p) => relative(root, p).replace(/\._S3rver_object$/, ''))
        .sort(),
    object: (key) => readFileSync(join(root, `${key}._S3rver_object`)),
    close: () => server.close(),
  };
}
