/**
 * A file's type from its magic bytes (file-type), never from its name, a URL or a Content-Type header,
 * and whether it is the media it claims to be. Only images, video and audio are kept or uploaded.
 */
import { open } from 'node:fs/promises';

export interface MediaType {
  ext: string;
  mime: string;
}

/** Bytes read from the start of a file to detect its type (file-type needs at most a few KiB for media). */
const HEAD_BYTES = 64 * 1024;
const MEDIA = /^(image|video|audio)\//;

type FileTypeModule = typeof import('file-type');
let fileType: Promise<FileTypeModule> | undefined;

/** The type of the bytes, or undefined when file-type knows none. */
export async function detectBuffer(head: Uint8Array): Promise<MediaType | undefined> {
  const { fileTypeFromBuffer } = await (fileType ??= import('file-type'));
  const t = await fileTypeFromBuffer(head);
  return t ? { ext: t.ext, mime: t.mime } : undefined;
}

/** The first bytes of an open file (by descriptor: the file checked is the file read). */
export async function readHead(fd: import('node:fs/promises').FileHandle): Promise<Buffer> {
  const buf = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await fd.read(buf, 0, HEAD_BYTES, 0);
  return buf.subarray(0, bytesRead);
}

/** The type of a (spooled, regular) file. */
export async function detectFile(path: string): Promise<MediaType | undefined> {
  const fd = await open(path, 'r');
  try {
    return await detectBuffer(await readHead(fd));
  } finally {
    await fd.close();
  }
}

/**
 * Why `type` cannot be kept as an output of kind `kind`, or undefined when it can. image, video and
 * audio must match their own family (audio also in an MP4 or WebM container, which file-type names as
 * video); any other kind (a URL found by scanning the result) must be image, video or audio.
 */
export function kindMismatch(kind: string, type: MediaType | undefined): string | undefined {
  if (!type) return 'its bytes are not a known media type';
  if (!MEDIA.test(type.mime)) return `its bytes are ${type.mime}, not image, video or audio`;
  const family = type.mime.split('/')[0];
  if (kind === 'cover') return family === 'image' ? undefined : `its bytes are ${type.mime}, not a cover image`;
  if (kind !== 'image' && kind !== 'video' && kind !== 'audio') return undefined;
  if (family === kind) return undefined;
  if (kind === 'audio' && (type.mime === 'video/mp4' || type.mime === 'video/webm')) return undefined;
  return `its bytes are ${type.mime}, not the ${kind} the provider declared`;
}

/** Only image, video and audio types are media (for uploads). */
export function isMedia(mime: string): boolean {
  return MEDIA.test(mime);
}
