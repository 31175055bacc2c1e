/**
 * Decode, shrink, encode: untrusted image bytes to a JPEG thumbnail, in pure JavaScript (pngjs,
 * jpeg-js) and WebAssembly (libwebp). Runs inside the decode worker (thumbnail.ts), which bounds its
 * memory and time; the pixel cap was already checked against the header, and is checked again here.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { readHeader, type ImageFormat } from './header.js';
import { checkPngData } from './png-data.js';
import { decodeWebp, type Rgba } from './webp.js';

export interface ThumbRequest {
  bytes: Uint8Array;
  format: ImageFormat;
  maxSide: number;
  maxBytes: number;
  maxPixels: number;
}

export interface Thumb {
  data: Uint8Array;
  width: number;
  height: number;
  quality: number;
}

/** Qualities tried in turn until the JPEG fits the byte cap. */
export const QUALITIES = [82, 72, 62, 50, 40, 30] as const;

async function decode(r: ThumbRequest): Promise<Rgba> {
  switch (r.format) {
    case 'png': {
      const header = readHeader(r.bytes);
      if (header) checkPngData(r.bytes, header);
      return PNG.sync.read(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength));
    }
    case 'jpeg':
      return jpeg.decode(r.bytes, {
        useTArray: true,
        formatAsRGBA: true,
        tolerantDecoding: false,
        maxResolutionInMP: r.maxPixels / 1e6,
        maxMemoryUsageInMB: 512,
      });
    case 'webp':
      return decodeWebp(r.bytes);
  }
}

/**
 * Area-average `img` down so its long side is at most maxSide (never up), flattening alpha onto white.
 * Each source pixel adds to the one destination pixel its area mostly falls in.
 */
export function shrink(img: Rgba, maxSide: number): Rgba {
  const { width: sw, height: sh, data } = img;
  const scale = Math.min(1, maxSide / Math.max(sw, sh));
  const dw = Math.max(1, Math.round(sw * scale));
  const dh = Math.max(1, Math.round(sh * scale));
  const sums = new Float64Array(dw * dh * 3);
  const counts = new Uint32Array(dw * dh);
  const col = new Uint32Array(sw);
  for (let x = 0; x < sw; x++) col[x] = Math.min(dw - 1, Math.floor((x * dw) / sw));
  for (let y = 0; y < sh; y++) {
    const row = Math.min(dh - 1, Math.floor((y * dh) / sh)) * dw;
    for (let x = 0; x < sw; x++) {
      const s = (y * sw + x) * 4;
      const a = data[s + 3] / 255;
      const d = row + col[x];
      sums[d * 3] += data[s] * a + 255 * (1 - a);
      sums[d * 3 + 1] += data[s + 1] * a + 255 * (1 - a);
      sums[d * 3 + 2] += data[s + 2] * a + 255 * (1 - a);
      counts[d] += 1;
    }
  }
  const out = new Uint8Array(dw * dh * 4);
  for (let d = 0; d < dw * dh; d++) {
    const n = counts[d] || 1;
    out[d * 4] = Math.round(sums[d * 3] / n);
    out[d * 4 + 1] = Math.round(sums[d * 3 + 1] / n);
    out[d * 4 + 2] = Math.round(sums[d * 3 + 2] / n);
    out[d * 4 + 3] = 255;
  }
  return { data: out, width: dw, height: dh };
}

/** The thumbnail of one image; throws (with a short reason) on a file it cannot decode or fit. */
export async function thumbnail(r: ThumbRequest): Promise<Thumb> {
  const img = await decode(r);
  if (img.width * img.height > r.maxPixels)
    throw new Error(`${img.width}x${img.height} is over the ${Math.round(r.maxPixels / 1e6)}-megapixel cap`);
  if (img.data.length < img.width * img.height * 4) throw new Error('the decoder returned too few pixels');
  const small = shrink(img, r.maxSide);
  for (const quality of QUALITIES) {
    const data = jpeg.encode({ data: small.data, width: small.width, height: small.height }, quality).data;
    if (data.length <= r.maxBytes) return { data, width: small.width, height: small.height, quality };
  }
  throw new Error(`no JPEG of it fits ${Math.round(r.maxBytes / 1024)} KB`);
}
