/**
 * Job outputs: pull every result URL out of a status response, give it a media kind and MIME type, and
 * name the file it may be downloaded to (confined to the output folder, safe names). The download itself
 * is in download.ts (one file) and downloader.ts (a job's outputs).
 */
import { isAbsolute, relative, resolve } from 'node:path';
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
const KIND_EXT: Record<string, string> = { image: 'png', video: 'mp4', audio: 'mp3', cover: 'jpg' };

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

/** The values of `field` per item of its first `[]` array (`result[].cover` -> one list per `result` item). */
function perItem(data: unknown, field: string): { prefix?: string; items: unknown[][] } {
  const at = field.indexOf('[]');
  if (at < 0) {
    const v = getPath(data, field);
    return { items: [Array.isArray(v) ? v : [v]] };
  }
  const prefix = field.slice(0, at + 2);
  const rest = field.slice(at + 3);
  const arr = getPath(data, prefix.slice(0, -2));
  const items = (Array.isArray(arr) ? arr : []).map((item: unknown) => {
    const v = rest ? getPath(item, rest) : item;
    return Array.isArray(v) ? v : [v];
  });
  return { prefix, items };
}

/**
 * Every output the job block names, in order, de-duplicated. Non-URL values (ids, text) are kept. A cover
 * read from the same array item as a media output (`result[].cover` beside `result[].preview`) names it
 * in `of`, so a result item without a cover never shifts the later videos' covers.
 */
export function extractOutputs(data: unknown, spec: Pick<JobSpec, 'results'>): JobOutput[] {
  const seen = new Set<string>();
  const out: JobOutput[] = [];
  /** `<array prefix>#<item index>` -> the 1-based number of the first media output read from that item. */
  const media = new Map<string, number>();
  for (const r of spec.results) {
    const { prefix, items } = perItem(data, r.field);
    items.forEach((values, i) => {
      for (const item of values) {
        if (typeof item !== 'string' || item === '' || seen.has(item)) continue;
        seen.add(item);
        const mimeType = /^https?:\/\//.test(item) ? mimeTypeOf(item, r.kind) : undefined;
        const o: JobOutput = { url: item, kind: r.kind, ...(mimeType ? { mimeType } : {}) };
        const key = prefix === undefined ? undefined : `${prefix}#${i}`;
        if (key !== undefined && r.kind === 'cover') {
          const of = media.get(key);
          if (of !== undefined) o.of = of;
        } else if (key !== undefined && r.kind !== 'cover' && !media.has(key)) media.set(key, out.length + 1);
        out.push(o);
      }
    });
  }
  return out;
}

/** The kind of an output found by the scan, from its extension (a file when the extension says nothing). */
const EXT_KIND: Record<string, string> = {
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  webp: 'image',
  gif: 'image',
  mp4: 'video',
  mov: 'video',
  webm: 'video',
  mp3: 'audio',
  wav: 'audio',
  m4a: 'audio',
  ogg: 'audio',
};
/** Kind of the one output that carries an excerpt of the raw result (not a URL; never downloaded). */
export const RAW_RESULT = 'raw_result';
const MAX_SCANNED = 20;
const EXCERPT_CHARS = 400;

/** Every http(s) URL anywhere inside `value` (strings at any depth, bounded), in document order. */
function urlsIn(value: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (found.length >= MAX_SCANNED || depth > 10) return;
    if (typeof v === 'string') {
      if (/^https?:\/\/[^\s]+$/i.test(v.trim()) && !found.includes(v.trim())) found.push(v.trim());
    } else if (Array.isArray(v)) for (const item of v) walk(item, depth + 1);
    else if (v && typeof v === 'object') for (const item of Object.values(v)) walk(item, depth + 1);
  };
  walk(value, 0);
  return found;
}

/** The part of a status response that holds the result: the top-level field the job block reads from. */
function resultPart(data: unknown, spec: Pick<JobSpec, 'results'>): unknown {
  for (const r of spec.results) {
    const top = r.field.split('.')[0].replace(/\[\]$/, '');
    const v = getPath(data, top);
    if (v !== undefined && v !== null) return v;
  }
  return data;
}

/**
 * A succeeded job's outputs. The declared result fields first; when they yield nothing, every http(s) URL
 * anywhere in the result (kind from its extension) plus one short excerpt of the raw result, so a paid
 * output is never reported as "no output URL" because the result had another shape than declared.
 * `data` has already been through the provider client's redactor.
 */
export function succeededOutputs(data: unknown, spec: Pick<JobSpec, 'results'>): JobOutput[] {
  const declared = extractOutputs(data, spec);
  if (declared.length) return declared;
  const part = resultPart(data, spec);
  const scanned: JobOutput[] = urlsIn(part).map((url) => {
    const kind = EXT_KIND[urlExtension(url) ?? ''] ?? 'file';
    const mimeType = mimeTypeOf(url, kind);
    return { url, kind, ...(mimeType ? { mimeType } : {}), source: 'scan' };
  });
  let raw: string;
  try {
    raw = JSON.stringify(part) ?? String(part);
  } catch {
    raw = String(part);
  }
  const excerpt = raw.length > EXCERPT_CHARS ? `${raw.slice(0, EXCERPT_CHARS)}… (${raw.length} characters)` : raw;
  return [...scanned, { url: excerpt, kind: RAW_RESULT, source: 'scan' }];
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
