/**
 * Inputs for providers that need a public URL (an image for image-to-video, a video to edit): a file is
 * put in the bucket and answered with a presigned GET link that outlives any job's time limit.
 *
 * Over stdio the server reads `path`, a file inside --input-dir: no `..` segment, no way out through a
 * symbolic link (the file is opened first, without following a link at its end, and its open descriptor's
 * real path must lie in the folder's real path, so no link anywhere on the way leads out), a regular file,
 * at most --upload max bytes (and S3's 5 GiB for one PUT), its type from its magic bytes (image, video or
 * audio only). Over HTTP the server reads nothing from its own disk: it signs a PUT for the client
 * (Content-Type and Content-Length signed in, valid 15 minutes) and names the GET link the object will
 * have; the bytes never pass through the server, so their type is the client's word.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MediagenError } from '../errors.js';
import { detectBuffer, isMedia, readHead } from './media-type.js';
import { MAX_PUT_BYTES, type S3Store } from './s3.js';

/** The lifetime of an upload's GET link: the output TTL, at least 24 h (longer than any job), at most 7 days. */
export function uploadTtl(outputUrlTtl: number): number {
  return Math.min(604_800, Math.max(outputUrlTtl, 86_400));
}

/** Content types a presigned upload may declare, and the extension its key gets. */
export const UPLOAD_TYPES: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mp4': 'm4a',
  'audio/ogg': 'ogg',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
};

export interface Uploaded {
  key: string;
  url: string;
  bytes: number;
  contentType: string;
  expiresAt: number;
}

const refuse = (why: string): MediagenError => new MediagenError('BAD_ARGUMENTS', `media_upload: ${why}`);

/**
 * The file `path` names inside `inputDir`, opened for reading, or a refusal. Opened first (O_NOFOLLOW: the
 * last component is no link; O_NONBLOCK: a FIFO does not block the open), then checked on the open file
 * itself: a regular file (fstat), whose real path (/proc/self/fd/<fd>) lies inside the folder's real path.
 * Where /proc is absent, every component below the folder is lstat'ed and none may be a symbolic link,
 * and the file found at the end must be the one opened. Only that descriptor is read afterwards, so a
 * folder swapped for a link between the checks and the read changes nothing.
 */
async function openConfined(inputDir: string, path: string) {
  if (path === '' || path.includes('\0')) throw refuse('an empty path or one with a NUL byte');
  if (path.split(/[/\\]/).includes('..')) throw refuse('a path with ".." is refused');
  const root = await realpath(inputDir).catch(() => {
    throw new MediagenError('NOT_CONFIGURED', 'media_upload: the input folder (--input-dir) does not exist.');
  });
  const target = resolve(inputDir, path);
  const rel = relative(resolve(inputDir), target);
  if (!inside(rel)) throw refuse('the path is outside the input folder (--input-dir)');
  const fd = await open(resolve(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ELOOP' || err.code === 'EMLINK')
        throw refuse('the path is a symbolic link; uploads do not follow links');
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR')
        throw refuse(`no file ${JSON.stringify(path)} in the input folder`);
      throw refuse(`the file cannot be opened (${err.code ?? 'error'})`);
    },
  );
  try {
    const st = await fd.stat();
    if (!st.isFile()) throw refuse('the path is not a regular file');
    const real = await realpath(`/proc/self/fd/${fd.fd}`).catch(() => undefined);
    if (real !== undefined) {
      if (!inside(relative(root, real)))
        throw refuse('the path leads out of the input folder (through a symbolic link)');
    } else await walk(root, rel, st);
    return { fd, bytes: st.size };
  } catch (err) {
    await fd.close();
    throw err;
  }
}

/** A relative path that names something strictly inside its base (`..foo` is a name, `../foo` is not). */
const inside = (rel: string): boolean => rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);

/** Without /proc: no component below `root` is a symbolic link, and the last one is the file opened. */
async function walk(root: string, rel: string, opened: { ino: number; dev: number }): Promise<void> {
  let at = root;
  for (const part of rel.split(sep)) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (!st || st.isSymbolicLink()) throw refuse('the path leads out of the input folder (through a symbolic link)');
  }
  const last = await lstat(at);
  if (last.ino !== opened.ino || last.dev !== opened.dev) throw refuse('the file changed while it was checked');
}

/** Over stdio: put the file in the bucket; answer its presigned GET link. */
export async function uploadFile(
  s3: S3Store,
  o: { principal: string; inputDir: string; path: string; maxBytes: number; ttl: number; signal: AbortSignal },
): Promise<Uploaded> {
  const { fd, bytes } = await openConfined(o.inputDir, o.path);
  try {
    if (bytes > MAX_PUT_BYTES) throw refuse(`the file is ${bytes} bytes, over S3's 5 GiB limit for one upload`);
    if (bytes > o.maxBytes) throw refuse(`the file is ${bytes} bytes, over the ${o.maxBytes}-byte upload limit`);
    if (bytes === 0) throw refuse('the file is empty');
    const type = await detectBuffer(await readHead(fd));
    if (!type || !isMedia(type.mime))
      throw refuse(`the file's bytes are ${type ? type.mime : 'no known type'}, not an image, video or audio file`);
    const key = s3.uploadKey(o.principal, randomBytes(16).toString('hex'), type.ext);
    const stream = fd.createReadStream({ start: 0, end: bytes - 1, autoClose: false });
    await s3.putStream(key, stream, { contentType: type.mime, bytes, signal: o.signal, timeoutMs: 10 * 60_000 });
    return { key, url: await s3.link(key, o.ttl), bytes, contentType: type.mime, expiresAt: Date.now() + o.ttl * 1000 };
  } finally {
    await fd.close();
  }
}

export interface PresignedUpload {
  key: string;
  putUrl: string;
  getUrl: string;
  headers: Record<string, string>;
  /** When the GET link stops working. */
  expiresAt: number;
  /** When the PUT link stops working (PUT_TTL from now: an upload starts at once). */
  putExpiresAt: number;
}

/** The lifetime of a presigned PUT: 15 minutes (the GET link lives for the upload TTL). */
export const PUT_TTL = 15 * 60;

/** Over HTTP: a presigned PUT for the client and the GET link the object will have. */
export async function presignUpload(
  s3: S3Store,
  o: { principal: string; contentType: string; size: number; maxBytes: number; ttl: number },
): Promise<PresignedUpload> {
  const contentType = o.contentType.trim().toLowerCase();
  const ext = UPLOAD_TYPES[contentType];
  if (!ext)
    throw refuse(`content_type ${JSON.stringify(o.contentType)} is not one of ${Object.keys(UPLOAD_TYPES).join(', ')}`);
  if (o.size > MAX_PUT_BYTES) throw refuse(`size ${o.size} is over S3's 5 GiB limit for one upload`);
  if (o.size > o.maxBytes) throw refuse(`size ${o.size} is over the ${o.maxBytes}-byte upload limit`);
  const key = s3.uploadKey(o.principal, randomBytes(16).toString('hex'), ext);
  const now = Date.now();
  return {
    key,
    putUrl: await s3.presignPut(key, contentType, o.size, PUT_TTL),
    getUrl: await s3.link(key, o.ttl),
    headers: { 'Content-Type': contentType, 'Content-Length': String(o.size) },
    expiresAt: now + o.ttl * 1000,
    putExpiresAt: now + PUT_TTL * 1000,
  };
}
