/**
 * A PNG's compressed image data inflated once under an exact bound, before pngjs sees the file: pngjs 7
 * inflates an interlaced PNG with no output limit, so a small file with an honest 1x1 header and a
 * zlib stream of zeros would inflate to gigabytes outside the worker's heap limit. The bound is the size
 * the header implies (the seven Adam7 passes for an interlaced image), plus a little slack; a stream
 * that inflates past it is refused.
 */
import { inflateSync } from 'node:zlib';
import { PNG_CHANNELS, type ImageHeader } from './header.js';

/** Bytes past the declared size tolerated in the inflated data. */
const SLACK = 1024;

/** Adam7 passes: x start, y start, x step, y step. */
export const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** The inflated (filtered) size of the image data a PNG header declares. */
export function pngDataBytes(h: ImageHeader & { png: NonNullable<ImageHeader['png']> }): number {
  const bits = h.png.depth * (PNG_CHANNELS[h.png.colour] ?? 4);
  const rows = (w: number, n: number): number => (w > 0 && n > 0 ? n * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (!h.png.interlace) return rows(h.width, h.height);
  return ADAM7.reduce(
    (sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)),
    0,
  );
}

/** The IDAT chunks' data, concatenated (the zlib stream pngjs inflates). */
function idat(b: Uint8Array): Buffer {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= b.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    if (type === 'IDAT') parts.push(b.subarray(at + 8, Math.min(b.length, at + 8 + len)));
    if (type === 'IEND') break;
    at += 12 + len;
  }
  return Buffer.concat(parts);
}

/** Throws when the PNG's image data inflates past what its header declares (or is not a zlib stream). */
export function checkPngData(b: Uint8Array, h: ImageHeader): void {
  if (h.format !== 'png' || !h.png) return;
  const limit = pngDataBytes({ ...h, png: h.png }) + SLACK;
  try {
    inflateSync(idat(b), { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`its image data inflates past the ${h.width}x${h.height} its header declares`);
    // A cut-off or damaged stream: pngjs reports it in its own words.
  }
}
