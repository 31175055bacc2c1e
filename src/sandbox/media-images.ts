/**
 * The sandbox's larger test images, built in code at first use (nothing big is embedded): photo-sized
 * PNG, JPEG and WebP files that a thumbnail must shrink, a noisy JPEG whose thumbnail is near the size
 * cap (for the result budget), a video cover, and two hostile files behind faults: a decompression-bomb
 * PNG (a few hundred bytes declaring 50000x50000 pixels) and a PNG cut off half-way.
 */
import jpeg from 'jpeg-js';
import { deflateSync } from 'node:zlib';
import { encodeWebp } from '../previews/webp.js';
import { crc32, makePng } from './media.js';
import { ADAM7 } from '../previews/png-data.js';

/** RGBA pixels of a smooth pattern with a few rings, so a resized copy is recognisably the same. */
export function pattern(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  const cx = width / 2;
  const cy = height / 2;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const ring = Math.floor(Math.hypot(x - cx, y - cy) / (Math.min(width, height) / 12)) % 2;
      data[i] = Math.round((x / width) * 255);
      data[i + 1] = Math.round((y / height) * 255);
      data[i + 2] = ring ? 220 : 40;
      data[i + 3] = 255;
    }
  return data;
}

/**
 * A gradient with strong noise in 4x4 blocks from a fixed seed: compresses poorly, so even its 768 px
 * thumbnail needs a lowered quality to fit 300 KB (about 280 KB at quality 72).
 */
function noise(width: number, height: number, seed = 1): Buffer {
  const data = Buffer.alloc(width * height * 4);
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
  const bw = Math.ceil(width / 4);
  const blocks = Buffer.alloc(bw * Math.ceil(height / 4) * 3);
  for (let i = 0; i < blocks.length; i++) blocks[i] = next();
  const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const b = ((y >> 2) * bw + (x >> 2)) * 3;
      const i = (y * width + x) * 4;
      const base = [(x / width) * 255, (y / height) * 255, 128];
      for (let c = 0; c < 3; c++) data[i + c] = clamp(base[c] + ((blocks[b + c] - 128) * 48) / 128);
      data[i + 3] = 255;
    }
  return data;
}

export function makeJpeg(width: number, height: number, quality: number, noisy = false): Buffer {
  const data = noisy ? noise(width, height) : pattern(width, height);
  return Buffer.from(jpeg.encode({ data, width, height }, quality).data);
}

export function makeWebp(width: number, height: number): Promise<Buffer> {
  return encodeWebp({ data: pattern(width, height), width, height }, 75);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A decompression bomb: a valid PNG header declaring width x height 8-bit RGB pixels, and an IDAT of the
 * first rows of zeros (`depth` bits a sample; deflate squeezes any run of zeros ~1000:1), so a decoder that trusts the header
 * allocates width*height*4 bytes (10 GB at 50000x50000) for a file of a few kilobytes.
 */
export function makeBombPng(width = 50_000, height = 50_000, rows = 64, depth = 8): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc((width * 3 * (depth / 8) + 1) * rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real PNG cut off half-way through its image data (no IEND): a truncated download. */
export function makeTruncatedPng(width = 640, height = 480): Buffer {
  const png = makePng(width, height);
  return png.subarray(0, Math.floor(png.length / 2));
}

/**
 * An interlaced (Adam7) 8-bit RGBA PNG of width x height with an honest header. `bombBytes` > 0 appends
 * that many zero bytes to its image data before compression: a file of a few kilobytes whose data
 * inflates far past what its header declares (pngjs inflates interlaced data with no limit).
 */
export function makeInterlacedPng(width: number, height: number, bombBytes = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  ihdr[12] = 1;
  const px = pattern(width, height);
  const rows: Buffer[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    if (x0 >= width || y0 >= height) continue;
    for (let y = y0; y < height; y += dy) {
      const row = [0];
      for (let x = x0; x < width; x += dx) row.push(...px.subarray((y * width + x) * 4, (y * width + x) * 4 + 4));
      rows.push(Buffer.from(row));
    }
  }
  if (bombBytes > 0) rows.push(Buffer.alloc(bombBytes));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
