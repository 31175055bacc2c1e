/**
 * A thumbnail of untrusted image bytes, without risk to the server: the header is read first and a file
 * declaring more than the pixel cap, or pixels that would decode to more than the byte cap (RGBA, 2 bytes a
 * sample for a 16-bit PNG), is refused before anything is decoded; decoding runs in a worker thread with
 * heap limits and a time cap (terminated when it runs out), ONE at a time in the process, so the
 * memory at the cap is that of one decode.
 * Any failure is a one-line reason, never an exception.
 */
import { Worker } from 'node:worker_threads';
import type { Thumb } from './decode.js';
import { decodedBytes, readHeader } from './header.js';

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

const MAX_WORKERS = 1;
let running = 0;
const queue: (() => void)[] = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_WORKERS) await new Promise<void>((r) => queue.push(r));
  running += 1;
  try {
    return await fn();
  } finally {
    running -= 1;
    queue.shift()?.();
  }
}

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
  return slot(() => inWorker(bytes, header.format, limits));
}

function inWorker(bytes: Uint8Array, format: string, limits: ThumbLimits): Promise<ThumbResult> {
  return new Promise<ThumbResult>((resolve) => {
    let settled = false;
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
      workerData: {
        bytes,
        format,
        maxSide: limits.maxSide,
        maxBytes: limits.maxBytes,
        maxPixels: limits.maxPixels,
      },
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    const done = (r: ThumbResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          reason: `decoding took over ${limits.timeoutMs >= 1000 ? `${Math.round(limits.timeoutMs / 1000)} s` : `${limits.timeoutMs} ms`}`,
        }),
      limits.timeoutMs,
    );
    worker.on('message', (m: ({ ok: true } & Thumb) | { ok: false; reason: string }) =>
      done(m.ok ? { ...m, data: new Uint8Array(m.data), mimeType: 'image/jpeg' } : { ok: false, reason: m.reason }),
    );
    worker.on('error', (err) =>
      done({
        ok: false,
        reason: /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as { code?: string }).code} ${err.message}`)
          ? 'decoding needed more memory than allowed'
          : `the decoder failed (${err.message.slice(0, 120)})`,
      }),
    );
    worker.on('exit', (code) => done({ ok: false, reason: `the decoder stopped (exit ${code})` }));
  });
}
