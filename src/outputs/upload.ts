/**
 * Inputs for providers that need a public URL (an image for image-to-video, a video to edit): a file is
 * put in the bucket and answered with a presigned GET link that outlives any job's time limit.
 *
 * Over stdio the server reads `path`, a file inside --input-dir: no `..` segment, no symbolic link (the
 * file itself is lstat'ed and opened with O_NOFOLLOW; its real path and the folder's real path must
 * agree, so no link anywhere on the way leads out), a regular file, at most --upload max bytes, its type
 * from its magic bytes (image, video or audio only). Over HTTP the server reads nothing from its own disk:
 * it signs a PUT for the client (Content-Type and Content-Length signed in) and names the GET link the
 * object will have; the bytes never pass through the server, so their type is the client's word.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { MediagenError } from '../errors.js';
import { detectBuffer, isMedia, readHead } from './media-type.js';
import type { S3Store } from './s3.js';

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

/** The file `path` names inside `inputDir`, opened for reading, or a refusal. */
async function openConfined(inputDir: string, path: string) {
  if (path === '' || path.includes('\0')) throw refuse('an empty path or one with a NUL byte');
  if (path.split(/[/\\]/).includes('..')) throw refuse('a path with ".." is refused');
  const root = await realpath(inputDir).catch(() => {
    throw new MediagenError('NOT_CONFIGURED', 'media_upload: the input folder (--input-dir) does not exist.');
  });
  const target = resolve(inputDir, path);
  const rel = relative(resolve(inputDir), target);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
    throw refuse('the path is outside the input folder (--input-dir)');
  const st = await lstat(target).catch(() => {
    throw refuse(`no file ${JSON.stringify(path)} in the input folder`);
  });
  if (st.isSymbolicLink()) throw refuse('the path is a symbolic link; uploads do not follow links');
  if (!st.isFile()) throw refuse('the path is not a regular file');
  const real = await realpath(target);
  const realRel = relative(root, real);
  if (realRel === '' || realRel.startsWith('..') || isAbsolute(realRel))
    throw refuse('the path leads out of the input folder (through a symbolic link)');
  const fd = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  const fst = await fd.stat();
  if (!fst.isFile() || fst.ino !== st.ino || fst.dev !== st.dev) {
    await fd.close();
    throw refuse('the file changed while it was checked');
  }
  return { fd, bytes: fst.size };
}

/** Over stdio: put the file in the bucket; answer its presigned GET link. */
export async function uploadFile(
  s3: S3Store,
  o: { principal: string; inputDir: string; path: string; maxBytes: number; ttl: number; signal: AbortSignal },
): Promise<Uploaded> {
  const { fd, bytes } = await openConfined(o.inputDir, o.path);
  try {
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
  expiresAt: number;
}

/** Over HTTP: a presigned PUT for the client and the GET link the object will have. */
export async function presignUpload(
  s3: S3Store,
  o: { principal: string; contentType: string; size: number; maxBytes: number; ttl: number },
): Promise<PresignedUpload> {
  const contentType = o.contentType.trim().toLowerCase();
  const ext = UPLOAD_TYPES[contentType];
  if (!ext)
    throw refuse(`content_type ${JSON.stringify(o.contentType)} is not one of ${Object.keys(UPLOAD_TYPES).join(', ')}`);
  if (o.size > o.maxBytes) throw refuse(`size ${o.size} is over the ${o.maxBytes}-byte upload limit`);
  const key = s3.uploadKey(o.principal, randomBytes(16).toString('hex'), ext);
  return {
    key,
    putUrl: await s3.presignPut(key, contentType, o.size, o.ttl),
    getUrl: await s3.link(key, o.ttl),
    headers: { 'Content-Type': contentType, 'Content-Length': String(o.size) },
    expiresAt: Date.now() + o.ttl * 1000,
  };
}
