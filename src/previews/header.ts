/**
 * An image's format and declared size, read from its header before anything is decoded, so a file that
 * declares more pixels than the cap (a decompression bomb) is refused without allocating for it.
 * PNG: IHDR. JPEG: the first SOFn marker. WebP: the VP8 / VP8L / VP8X header.
 */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** PNG only: bits per sample, colour type and interlace method (IHDR bytes 8, 9, 12). */
  png?: { depth: number; colour: number; interlace: number };
}

/** Samples per pixel of each PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
export const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * The bytes a decoder will hold for the image's pixels: RGBA at 1 byte a sample, 2 for a 16-bit PNG
 * (pngjs keeps 16-bit samples as such), so a header alone prices a decode before it starts.
 */
export function decodedBytes(h: ImageHeader): number {
  return h.width * h.height * 4 * (h.png?.depth === 16 ? 2 : 1);
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The header of a PNG, JPEG or WebP; undefined for another format; throws for a damaged header. */
export function readHeader(b: Uint8Array): ImageHeader | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 8 && PNG_MAGIC.every((v, i) => b[i] === v)) {
    if (b.length < 29 || ascii(b, 12, 4) !== 'IHDR') throw new Error('the PNG header is damaged');
    const png = { depth: b[24], colour: b[25], interlace: b[28] };
    const depthOk = [1, 2, 4, 8, 16].includes(png.depth) && PNG_CHANNELS[png.colour] !== undefined;
    if (!depthOk || png.interlace > 1) throw new Error('the PNG header is damaged');
    return { ...sized('png', view.getUint32(16), view.getUint32(20)), png };
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegHeader(b, view);
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webpHeader(b, view);
  return undefined;
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

function sized(format: ImageFormat, width: number, height: number): ImageHeader {
  if (width < 1 || height < 1) throw new Error(`the ${format.toUpperCase()} header declares ${width}x${height}`);
  return { format, width, height };
}

/** Walk the JPEG markers to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC). */
function jpegHeader(b: Uint8Array, view: DataView): ImageHeader {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw new Error('the JPEG markers are damaged');
    const marker = b[at + 1];
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = view.getUint16(at + 2);
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (at + 9 > b.length) break;
      return sized('jpeg', view.getUint16(at + 7), view.getUint16(at + 5));
    }
    if (marker === 0xda || marker === 0xd9) break;
    at += 2 + len;
  }
  throw new Error('the JPEG has no frame header');
}

function webpHeader(b: Uint8Array, view: DataView): ImageHeader {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && b.length >= 30) {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new Error('the WebP (VP8) header is damaged');
    return sized('webp', view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
  }
  if (chunk === 'VP8L' && b.length >= 25) {
    if (b[20] !== 0x2f) throw new Error('the WebP (VP8L) header is damaged');
    const bits = view.getUint32(21, true);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X' && b.length >= 30) {
    const w = 1 + (b[24] | (b[25] << 8) | (b[26] << 16));
    const h = 1 + (b[27] | (b[28] << 8) | (b[29] << 16));
    return sized('webp', w, h);
  }
  throw new Error('the WebP header is damaged');
}
