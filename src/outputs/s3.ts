/**
 * An S3-compatible bucket as the output store: objects PUT with SigV4 (aws4fetch signs, undici sends,
 * the body streamed from a spooled file with its exact length), and presigned GET and PUT links
 * (query-string SigV4, X-Amz-Expires = the TTL). Credentials come from the environment snapshot and are
 * never put in an error, a log line or a result (a presigned link carries the access key id, as S3 requires,
 * and a signature; never the secret). The signer and undici are loaded on first use, not at start-up.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsV4Signer } from 'aws4fetch';
import type { Agent } from 'undici';
import { StartupError } from '../errors.js';
import { principalPrefix, type OutputStore, type PutOptions } from './store.js';

export interface S3Settings {
  bucket: string;
  prefix: string;
  region: string;
  /** Default https://s3.<region>.amazonaws.com. */
  endpoint?: string;
  /** Path-style URLs (MinIO and most self-hosted servers); also used for buckets with dots over https. */
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A bucket request that failed; the message names the status and S3's error code only. */
export class S3Error extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/** One key segment as S3's canonical URI encodes it (RFC 3986 unreserved characters kept). */
const encodeSegment = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Whether the bucket goes in the path (`<endpoint>/<bucket>/<key>`) rather than the host name: when forced,
 * for a bucket with dots over https (its certificate would not match), and for an IP-literal or single-label
 * endpoint (`127.0.0.1`, `localhost`: `bucket.127.0.0.1` is no host name, and the URL parser drops it).
 * A virtual-host URL that would not carry the bucket in its host name is refused at start.
 */
function addressing(endpoint: URL, s: S3Settings): boolean {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  if (s.forcePathStyle || isIP(host) !== 0 || !host.includes('.')) return true;
  if (s.bucket.includes('.') && endpoint.protocol === 'https:') return true;
  const probe = new URL(endpoint);
  probe.hostname = `${s.bucket}.${endpoint.hostname}`;
  if (probe.hostname !== `${s.bucket}.${endpoint.hostname}`.toLowerCase())
    throw new StartupError(
      `NOT_CONFIGURED: the bucket ${s.bucket} cannot be a host name under ${endpoint.hostname}; set MEDIAGEN_S3_FORCE_PATH_STYLE=1 for path-style URLs`,
    );
  return false;
}

/** The most one S3 PUT may carry (larger objects need a multipart upload, which this store does not do). */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export class S3Store implements OutputStore {
  readonly kind = 's3' as const;
  readonly maxObjectBytes = MAX_PUT_BYTES;
  readonly identity: string;
  private readonly endpoint: URL;
  private readonly pathStyle: boolean;
  private agent?: Promise<Agent>;
  private spool?: Promise<string>;

  constructor(readonly s: S3Settings) {
    this.endpoint = new URL(s.endpoint ?? `https://s3.${s.region}.amazonaws.com`);
    // The endpoint is part of it: one bucket name at two S3-compatible services is two stores.
    this.identity = `s3://${s.bucket}@${this.endpoint.host}`;
    this.pathStyle = addressing(this.endpoint, s);
  }

  get prefix(): string {
    return this.s.prefix;
  }

  /** The object's URL (no query). */
  objectUrl(key: string): URL {
    const path = key.split('/').map(encodeSegment).join('/');
    const base = new URL(this.endpoint);
    const basePath = base.pathname.replace(/\/+$/, '');
    if (this.pathStyle) base.pathname = `${basePath}/${this.s.bucket}/${path}`;
    else {
      base.hostname = `${this.s.bucket}.${base.hostname}`;
      base.pathname = `${basePath}/${path}`;
    }
    return base;
  }

  private async signer(init: {
    method: string;
    url: URL;
    headers?: Record<string, string>;
    signQuery?: boolean;
    datetime?: string;
  }): Promise<AwsV4Signer> {
    const { AwsV4Signer } = await import('aws4fetch');
    return new AwsV4Signer({
      method: init.method,
      url: init.url.toString(),
      headers: init.headers,
      accessKeyId: this.s.accessKeyId,
      secretAccessKey: this.s.secretAccessKey,
      sessionToken: this.s.sessionToken,
      service: 's3',
      region: this.s.region,
      signQuery: init.signQuery,
      datetime: init.datetime,
      // Content-Type and Content-Length are signed too: a presigned PUT fixes both.
      allHeaders: true,
    });
  }

  async spoolDir(): Promise<string> {
    return (this.spool ??= mkdtemp(join(tmpdir(), 'mediagen-keep-')));
  }

  outputKey(principal: string, jobId: string, n: number, ext: string): string {
    return `${principalPrefix(this.s.prefix, principal)}${jobId}/${n}.${ext}`;
  }

  /** A fresh key for an upload of `principal`. */
  uploadKey(principal: string, random: string, ext: string): string {
    return `${principalPrefix(this.s.prefix, principal)}uploads/${random}.${ext}`;
  }

  owns(principal: string, key: string): boolean {
    const mine = principalPrefix(this.s.prefix, principal);
    return key.startsWith(mine) && !key.slice(mine.length).split('/').includes('..');
  }

  async holds(principal: string, key: string): Promise<boolean> {
    return this.owns(principal, key) && (this.s.prefix === '' || key.startsWith(`${this.s.prefix}/`));
  }

  async putFile(key: string, file: string, o: PutOptions): Promise<void> {
    try {
      await this.putStream(key, createReadStream(file), o);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** PUT `body` (exactly o.bytes bytes, at most MAX_PUT_BYTES) as `key`, within o.timeoutMs in all. */
  async putStream(key: string, body: NodeJS.ReadableStream, o: PutOptions): Promise<void> {
    if (o.bytes > MAX_PUT_BYTES) throw new S3Error(`${o.bytes} bytes is over S3's 5 GiB limit for one PUT`);
    const url = this.objectUrl(key);
    const { request, Agent } = await import('undici');
    const agent = await (this.agent ??= Promise.resolve(new Agent({ connections: 8 })));
    const signer = await this.signer({
      method: 'PUT',
      url,
      headers: {
        'content-type': o.contentType,
        'content-length': String(o.bytes),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    const { headers } = await signer.sign();
    // The whole put is bounded, not only its idle gaps. The deadline's timer is held here and cleared
    // below (a bare AbortSignal.timeout inside AbortSignal.any can be garbage-collected and never fire).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException('deadline', 'TimeoutError')), o.timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, deadline.signal]) : deadline.signal;
    try {
      let res;
      try {
        res = await request(url, {
          method: 'PUT',
          headers: Object.fromEntries(headers.entries()),
          body: body as import('node:stream').Readable,
          dispatcher: agent,
          signal,
          headersTimeout: o.timeoutMs,
          bodyTimeout: o.timeoutMs,
        });
      } catch (err) {
        if (o.signal?.aborted) throw err;
        if (deadline.signal.aborted)
          throw new S3Error(
            `the PUT to the bucket ${this.s.bucket} did not finish within ${Math.round(o.timeoutMs / 1000)} s`,
          );
        const e = err as { code?: unknown; message?: unknown };
        throw new S3Error(
          `the bucket ${this.s.bucket} could not be reached (${typeof e.code === 'string' ? e.code : String(e.message ?? err).slice(0, 120)})`,
        );
      }
      const text = await res.body.text().catch(() => '');
      if (deadline.signal.aborted && !o.signal?.aborted)
        throw new S3Error(
          `the PUT to the bucket ${this.s.bucket} did not finish within ${Math.round(o.timeoutMs / 1000)} s`,
        );
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const code = /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(text)?.[1];
        throw new S3Error(
          `the bucket ${this.s.bucket} answered HTTP ${res.statusCode}${code ? ` ${code}` : ''} to a PUT`,
          res.statusCode,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** GET `key` (a 404 is undefined); at most maxBytes, within timeoutMs. */
  async read(key: string, maxBytes: number, timeoutMs: number): Promise<Buffer | undefined> {
    const { request, Agent } = await import('undici');
    const agent = await (this.agent ??= Promise.resolve(new Agent({ connections: 8 })));
    const url = await this.presign('GET', key, 300);
    let res;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      throw new S3Error(
        `the bucket ${this.s.bucket} could not be reached (${typeof e.code === 'string' ? e.code : String(e.message ?? err).slice(0, 120)})`,
      );
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (res.statusCode !== 200 || declared > maxBytes) {
      await res.body.dump().catch(() => undefined);
      if (res.statusCode === 404 || res.statusCode === 200) return undefined;
      throw new S3Error(`the bucket ${this.s.bucket} answered HTTP ${res.statusCode} to a GET`, res.statusCode);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        res.body.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  async write(key: string, data: Uint8Array, contentType: string, timeoutMs: number): Promise<void> {
    const { Readable } = await import('node:stream');
    await this.putStream(key, Readable.from([Buffer.from(data)]), { contentType, bytes: data.length, timeoutMs });
  }

  /** A presigned GET of `key`, valid for ttlSeconds (1..604800) from now. */
  async link(key: string, ttlSeconds: number): Promise<string> {
    return this.presign('GET', key, ttlSeconds);
  }

  /** A presigned PUT of `key`: the uploader must send exactly this Content-Type and Content-Length. */
  async presignPut(key: string, contentType: string, bytes: number, ttlSeconds: number): Promise<string> {
    return this.presign('PUT', key, ttlSeconds, { 'content-type': contentType, 'content-length': String(bytes) });
  }

  private async presign(method: string, key: string, ttl: number, headers?: Record<string, string>): Promise<string> {
    const url = this.objectUrl(key);
    url.searchParams.set('X-Amz-Expires', String(Math.max(1, Math.min(604_800, Math.floor(ttl)))));
    const signed = await (await this.signer({ method, url, headers, signQuery: true })).sign();
    return signed.url.toString();
  }

  async close(): Promise<void> {
    if (this.agent) await (await this.agent).close();
    if (this.spool) await rm(await this.spool, { recursive: true, force: true });
  }
}
