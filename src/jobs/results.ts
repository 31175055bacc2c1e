/**
 * Job outputs: pull every result URL out of a status response, give it a media kind and MIME type, and
 * optionally download it into the one configured output folder (confined, safe names, size-limited).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { JobSpec } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';
import { getPath } from '../providers/envelope.js';
import type { JobOutput } from '../store/store.js';

const MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  json: 'application/json',
  txt: 'text/plain',
};
const KIND_EXT: Record<string, string> = { image: 'png', video: 'mp4', audio: 'mp3' };

/** The lower-case extension of a URL's last path segment, if it is a plain short one. */
export function urlExtension(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(path.split('/').pop() ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

export function mimeTypeOf(url: string, kind: string): string | undefined {
  const ext = urlExtension(url) ?? KIND_EXT[kind];
  return ext ? MIME[ext] : undefined;
}

/** Every output the job block names, in order, de-duplicated. Non-URL values (ids, text) are kept. */
export function extractOutputs(data: unknown, spec: Pick<JobSpec, 'results'>): JobOutput[] {
  const seen = new Set<string>();
  const out: JobOutput[] = [];
  for (const r of spec.results) {
    const v = getPath(data, r.field);
    for (const item of Array.isArray(v) ? v : [v]) {
      if (typeof item !== 'string' || item === '' || seen.has(item)) continue;
      seen.add(item);
      const mimeType = /^https?:\/\//.test(item) ? mimeTypeOf(item, r.kind) : undefined;
      out.push({ url: item, kind: r.kind, ...(mimeType ? { mimeType } : {}) });
    }
  }
  return out;
}

/** `<job id>-<n>.<ext>`: nothing from the provider but a vetted extension ends up in the name. */
export function safeFileName(jobId: string, n: number, output: Pick<JobOutput, 'url' | 'kind'>): string {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(jobId))
    throw new MediagenError('BAD_ARGUMENTS', `Unsafe job id for a file name: ${jobId}`);
  const ext = urlExtension(output.url);
  const safeExt = ext && MIME[ext] ? ext : (KIND_EXT[output.kind] ?? 'bin');
  return `${jobId}-${n}.${safeExt}`;
}

/** Resolve `name` inside `dir`; refuse anything that would land outside it. */
export function confinedPath(dir: string, name: string): string {
  if (!isAbsolute(dir)) throw new MediagenError('NOT_CONFIGURED', `The output folder must be an absolute path: ${dir}`);
  if (
    name === '' ||
    name.includes('\0') ||
    /[/\\]/.test(name) ||
    name === '.' ||
    name === '..' ||
    /[<>:"|?*]/.test(name)
  )
    throw new MediagenError('BAD_ARGUMENTS', `Refused file name ${JSON.stringify(name)}: not a plain file name.`);
  const root = resolve(dir);
  const target = resolve(root, name);
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new MediagenError('BAD_ARGUMENTS', `Refused file name ${JSON.stringify(name)}: it leaves the output folder.`);
  return target;
}

export interface DownloadOptions {
  dir: string;
  maxBytes: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  timeoutMs: number;
}

/** Download one output to `<dir>/<job id>-<n>.<ext>`; returns the absolute path. */
export async function downloadOutput(jobId: string, n: number, output: JobOutput, o: DownloadOptions): Promise<string> {
  if (!/^https?:\/\//i.test(output.url))
    throw new MediagenError(
      'BAD_ARGUMENTS',
      `Refused to download ${JSON.stringify(output.url.slice(0, 80))}: not an http(s) URL.`,
    );
  const target = confinedPath(o.dir, safeFileName(jobId, n, output));
  await mkdir(o.dir, { recursive: true });
  const part = confinedPath(o.dir, `.${jobId}-${n}.part`);
  const signal = o.signal
    ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)])
    : AbortSignal.timeout(o.timeoutMs);
  const { request } = await import('undici');
  const res = await request(output.url, { method: 'GET', signal, dispatcher: o.dispatcher });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new MediagenError('PROVIDER_HTTP', `Download of output ${n} answered HTTP ${res.statusCode}.`);
  }
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > o.maxBytes) {
    res.body.on('error', () => undefined);
    res.body.destroy();
    throw new MediagenError(
      'BAD_ARGUMENTS',
      `Output ${n} is ${declared} bytes, over the ${o.maxBytes}-byte download limit; nothing written.`,
    );
  }
  let total = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > o.maxBytes)
        cb(
          new MediagenError(
            'BAD_ARGUMENTS',
            `Output ${n} is over the ${o.maxBytes}-byte download limit; nothing written.`,
          ),
        );
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(res.body, limit, createWriteStream(part, { mode: 0o644 }));
    await rename(part, target);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
  return target;
}
