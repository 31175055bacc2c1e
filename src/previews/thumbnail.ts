/**
 * A thumbnail of untrusted image bytes, without risk to the server: the header is read first and a file
 * declaring more than the pixel cap, or pixels that would decode to more than the byte cap (RGBA, 2 bytes a
 * sample for a 16-bit PNG), is refused before anything is decoded; decoding runs in the decode worker
 * (worker-pool.ts: heap limits, a time cap, one task at a time in the process). Audio clips are read
 * there too.
 * Any failure is a one-line reason, never an exception.
 */
import { AUDIO_LIMITS, type AudioLimits, type AudioResult } from './audio.js';
import type { Thumb } from './decode.js';
import { decodedBytes, readHeader } from './header.js';
import { runTask } from './worker-pool.js';

export interface ThumbLimits {
  /** Long side of the thumbnail, at most (px). */
  maxSide: number;
  /** Size of the thumbnail's JPEG, at most (bytes). */
  maxBytes: number;
  /** Pixels the source may declare, at most. */
  maxPixels: number;
  /** Bytes the decoded pixels may need, at most (decodedBytes of the header). */
  maxDecodedBytes: number;
  /** Time one decode may take (ms). */
  timeoutMs: number;
  /** The worker's V8 heap, at most (MB). */
  heapMb: number;
}

export const THUMB_LIMITS: ThumbLimits = {
  maxSide: 768,
  maxBytes: 300 * 1024,
  maxPixels: 40_000_000,
  maxDecodedBytes: 160_000_000,
  timeoutMs: 15_000,
  heapMb: 256,
};

export type ThumbResult = ({ ok: true; mimeType: 'image/jpeg' } & Thumb) | { ok: false; reason: string };

export async function makeThumbnail(bytes: Uint8Array, limits: ThumbLimits = THUMB_LIMITS): Promise<ThumbResult> {
  let header;
  try {
    header = readHeader(bytes);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (!header) return { ok: false, reason: 'not a PNG, JPEG or WebP image' };
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels)
    return {
      ok: false,
      reason: `it declares ${header.width}x${header.height} pixels, over the ${Math.round(limits.maxPixels / 1e6)}-megapixel cap`,
    };
  const need = decodedBytes(header);
  if (need > limits.maxDecodedBytes)
    return {
      ok: false,
      reason: `its ${header.width}x${header.height}${header.png?.depth === 16 ? ' 16-bit' : ''} pixels would need ${Math.round(need / 1e6)} MB decoded, over the ${Math.round(limits.maxDecodedBytes / 1e6)} MB cap`,
    };
  const r = await runTask(
    {
      kind: 'thumb',
      req: {
        bytes,
        format: header.format,
        maxSide: limits.maxSide,
        maxBytes: limits.maxBytes,
        maxPixels: limits.maxPixels,
      },
    },
    limits,
  );
  if (!r.ok) return r;
  if (r.kind !== 'thumb') return { ok: false, reason: 'the decoder answered something else' };
  return {
    ok: true,
    mimeType: 'image/jpeg',
    data: new Uint8Array(r.data),
    width: r.width,
    height: r.height,
    quality: r.quality,
  };
}

/** An audio clip's block, read in the decode worker under the thumbnail's time and heap limits. */
export async function clipInWorker(
  bytes: Uint8Array,
  mimeType: string | undefined,
  limits: ThumbLimits = THUMB_LIMITS,
  audio: AudioLimits = AUDIO_LIMITS,
): Promise<AudioResult> {
  if (bytes.length > audio.maxBytes)
    return {
      ok: false,
      reason: `${Math.round(bytes.length / 1024)} KB is over the ${audio.maxBytes / 1024} KB audio cap`,
    };
  const r = await runTask({ kind: 'audio', bytes, mimeType, limits: audio }, limits);
  if (!r.ok) return r;
  if (r.kind !== 'audio') return { ok: false, reason: 'the decoder answered something else' };
  return { ok: true, data: Buffer.from(r.data), mimeType: r.mimeType, seconds: r.seconds };
}
