/**
 * Download one job output into the output folder. The URL is untrusted input: http(s) only, every hop
 * (redirects followed here, a few at most) through the address guard, a real deadline (a timer held here
 * and cleared in `finally`), a size cap, a temp file created exclusively (`wx`) under a random name in a
 * folder that is not a symlink, then renamed into place. Any failure removes the temp file.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { MediagenError } from '../errors.js';
import type { JobOutput } from '../store/store.js';
import { confinedPath, safeFileName } from './results.js';
import { DownloadRefused, isAllowed, literalRefusal, type DownloadPolicy } from './ssrf.js';

/** The deadline passed before the output was saved (the temp file is gone). */
export class DownloadIncomplete extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadIncomplete';
  }
}

export interface DownloadOptions {
  dir: string;
  maxBytes: number;
  /** Time allowed for the whole download, redirects included. */
  timeoutMs: number;
  /** The caller's cancellation. */
  signal?: AbortSignal;
  /** The guarded download Agent (guardedAgent). */
  dispatcher: Dispatcher;
  policy: DownloadPolicy;
  /** Redirects followed, at most; default 3. */
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Create the output folder if needed; refuse one that is a symbolic link or not a folder. */
export async function prepareFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const st = await lstat(dir);
  if (st.isSymbolicLink())
    throw new DownloadRefused(`the output folder ${dir} is a symbolic link; downloads do not follow links`);
  if (!st.isDirectory()) throw new DownloadRefused(`the output folder ${dir} is not a folder`);
}

/** Refuse a URL before connecting: scheme, and IP literals outside the policy (names are checked at connect). */
export function checkUrl(url: URL, policy: DownloadPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DownloadRefused(`${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new DownloadRefused('URLs with credentials are not downloaded');
  if (isAllowed(policy, url.hostname, url.port, url.protocol)) return;
  const refused = literalRefusal(url.hostname);
  if (refused) throw refused;
}

/** The DownloadRefused in an error or its causes (undici may wrap a connect error). */
export function refusalIn(err: unknown): DownloadRefused | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof DownloadRefused) return e;
  return undefined;
}

async function fetchFollowing(start: string, o: DownloadOptions, signal: AbortSignal, deadline: number) {
  let url = new URL(start);
  for (let hop = 0; ; hop++) {
    checkUrl(url, o.policy);
    const left = Math.max(1, deadline - Date.now());
    const res = await request(url, {
      method: 'GET',
      signal,
      dispatcher: o.dispatcher,
      headersTimeout: left,
      bodyTimeout: left,
    });
    if (!REDIRECTS.has(res.statusCode)) return res;
    res.body.on('error', () => undefined);
    res.body.destroy();
    const location = res.headers.location;
    if (typeof location !== 'string' || location === '')
      throw new MediagenError('PROVIDER_HTTP', `HTTP ${res.statusCode} without a Location`);
    if (hop >= (o.maxRedirects ?? 3)) throw new DownloadRefused(`more than ${o.maxRedirects ?? 3} redirects`);
    url = new URL(location, url);
  }
}

/** Download one output to `<dir>/<job id>-<n>.<ext>`; returns the absolute path. */
export async function downloadOutput(jobId: string, n: number, output: JobOutput, o: DownloadOptions): Promise<string> {
  if (!/^https?:\/\//i.test(output.url))
    throw new DownloadRefused(`${JSON.stringify(output.url.slice(0, 80))} is not an http(s) URL`);
  const target = confinedPath(o.dir, safeFileName(jobId, n, output));
  await prepareFolder(o.dir);
  const deadline = Date.now() + o.timeoutMs;
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new DownloadIncomplete(`output ${n} did not finish downloading within ${o.timeoutMs} ms`));
  }, o.timeoutMs);
  const onAbort = (): void => ctl.abort(o.signal?.reason);
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  let part: string | undefined;
  try {
    const res = await fetchFollowing(output.url, o, ctl.signal, deadline);
    if (res.statusCode !== 200) {
      res.body.on('error', () => undefined);
      res.body.destroy();
      throw new MediagenError('PROVIDER_HTTP', `the download answered HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > o.maxBytes) {
      res.body.on('error', () => undefined);
      res.body.destroy();
      throw new MediagenError('BAD_ARGUMENTS', `it is ${declared} bytes, over the ${o.maxBytes}-byte download limit`);
    }
    let total = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        total += chunk.length;
        if (total > o.maxBytes)
          cb(new MediagenError('BAD_ARGUMENTS', `it is over the ${o.maxBytes}-byte download limit`));
        else cb(null, chunk);
      },
    });
    part = confinedPath(o.dir, `.${jobId}-${n}.${randomBytes(8).toString('hex')}.part`);
    const file = await open(part, 'wx', 0o644);
    await pipeline(res.body, limit, file.createWriteStream(), { signal: ctl.signal });
    await rename(part, target);
    part = undefined;
    return target;
  } catch (err) {
    if (timedOut) throw new DownloadIncomplete(`output ${n} did not finish downloading in time`);
    throw err;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    if (part) await rm(part, { force: true });
  }
}

/**
 * Fetch one URL into memory (for previews): the same guards as a download (http(s) only, every hop
 * through the address guard, a deadline, the size cap), no file. Throws as downloadOutput does.
 */
export async function fetchBytes(url: string, o: Omit<DownloadOptions, 'dir'>): Promise<Buffer> {
  if (!/^https?:\/\//i.test(url))
    throw new DownloadRefused(`${JSON.stringify(url.slice(0, 80))} is not an http(s) URL`);
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new DownloadIncomplete(`the fetch did not finish within ${o.timeoutMs} ms`));
  }, o.timeoutMs);
  const onAbort = (): void => ctl.abort(o.signal?.reason);
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await fetchFollowing(url, { ...o, dir: '' }, ctl.signal, Date.now() + o.timeoutMs);
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (res.statusCode !== 200 || declared > o.maxBytes) {
      res.body.on('error', () => undefined);
      res.body.destroy();
      if (res.statusCode !== 200) throw new MediagenError('PROVIDER_HTTP', `the URL answered HTTP ${res.statusCode}`);
      throw new MediagenError('BAD_ARGUMENTS', `it is ${declared} bytes, over the ${o.maxBytes}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > o.maxBytes) {
        res.body.destroy();
        throw new MediagenError('BAD_ARGUMENTS', `it is over the ${o.maxBytes}-byte limit`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (timedOut) throw new DownloadIncomplete('the fetch did not finish in time');
    throw err;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}
