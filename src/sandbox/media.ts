/**
 * Real media files the sandbox serves under `/_media/<name>`, so result URLs download something a
 * viewer can open: a 64x64 RGB gradient PNG and a 1 s 440 Hz PCM WAV, and a 1 s 64x64 H.264 MP4
 * (embedded in media-assets.ts). For previews, picked by a marker in the prompt (see `mediaName`):
 * photo-sized PNG, JPEG and WebP images, a noisy JPEG, a decompression-bomb PNG, a truncated PNG, a 40 s
 * WAV over the audio caps, and a JPEG cover for videos (media-images.ts). Each is built at first use.
 */
import type { ServerResponse } from 'node:http';
import { deflateSync } from 'node:zlib';
import type { Fault } from './faults.js';
import { SAMPLE_MP4 } from './media-assets.js';

export type MediaKind = 'png' | 'wav' | 'mp4' | 'cover';

export interface MediaFile {
  name: string;
  contentType: string;
  data: Buffer;
}

export const MEDIA_NAMES: Readonly<Record<MediaKind, string>> = {
  png: 'sample.png',
  wav: 'sample.wav',
  mp4: 'sample.mp4',
  cover: 'cover.jpg',
};

type Maker = () => Buffer | Promise<Buffer>;
const images = (): Promise<typeof import('./media-images.js')> => import('./media-images.js');

/** Every file the sandbox serves: name -> content type and how to make it. */
const MAKERS: ReadonlyMap<string, { contentType: string; make: Maker }> = new Map<
  string,
  { contentType: string; make: Maker }
>([
  [MEDIA_NAMES.png, { contentType: 'image/png', make: () => makePng(64, 64) }],
  [MEDIA_NAMES.wav, { contentType: 'audio/wav', make: () => makeWav(1, 8000, 440) }],
  [MEDIA_NAMES.mp4, { contentType: 'video/mp4', make: () => SAMPLE_MP4 }],
  [MEDIA_NAMES.cover, { contentType: 'image/jpeg', make: async () => (await images()).makeJpeg(640, 360, 80) }],
  ['photo.png', { contentType: 'image/png', make: () => makePng(1200, 900) }],
  ['photo.jpg', { contentType: 'image/jpeg', make: async () => (await images()).makeJpeg(1600, 1200, 85) }],
  ['photo.webp', { contentType: 'image/webp', make: async () => (await images()).makeWebp(1024, 768) }],
  ['noise.jpg', { contentType: 'image/jpeg', make: async () => (await images()).makeJpeg(1536, 1536, 85, true) }],
  ['bomb.png', { contentType: 'image/png', make: async () => (await images()).makeBombPng() }],
  ['truncated.png', { contentType: 'image/png', make: async () => (await images()).makeTruncatedPng() }],
  // 40 s of 8 kHz 16-bit mono: 640 KB, over both audio preview caps (30 s, 600 KB).
  ['long.wav', { contentType: 'audio/wav', make: () => makeWav(40, 8000, 440) }],
]);

const files = new Map<string, Promise<MediaFile>>();

/** The sample file called `name`, or undefined (made at first use, then kept). */
export async function mediaFile(name: string): Promise<MediaFile | undefined> {
  const maker = MAKERS.get(name);
  if (!maker) return undefined;
  let file = files.get(name);
  if (!file) {
    file = Promise.resolve(maker.make()).then((data) => ({ name, contentType: maker.contentType, data }));
    files.set(name, file);
  }
  return file;
}

/** Every file name the sandbox serves. */
export const ALL_MEDIA: readonly string[] = [...MAKERS.keys()];

/**
 * The file a job's `kind` of result is, given the markers of its inputs: images `sandbox:jpeg`,
 * `sandbox:webp`, `sandbox:bigpng`, `sandbox:noisy`, `sandbox:bomb`, `sandbox:truncated`; audio
 * `sandbox:longaudio`. With none, the default sample.
 */
export function mediaName(kind: MediaKind, faults: ReadonlySet<Fault>): string {
  if (kind === 'png') {
    const picked = (
      [
        ['bomb', 'bomb.png'],
        ['truncated', 'truncated.png'],
        ['noisy', 'noise.jpg'],
        ['jpeg', 'photo.jpg'],
        ['webp', 'photo.webp'],
        ['bigpng', 'photo.png'],
      ] as const
    ).find(([f]) => faults.has(f));
    if (picked) return picked[1];
  }
  if (kind === 'wav' && faults.has('longaudio')) return 'long.wav';
  return MEDIA_NAMES[kind];
}

// ------------------------------------------------------------------------------------ hostile variants

/** Test-only variants of a sample file, for download guards: `/_media/drip/<name>`, `/_media/huge/<name>`. */
export type MediaVariant = 'drip' | 'huge';
/** What `huge` declares: 5 GiB, over any sane download limit. */
export const HUGE_BYTES = 5 * 1024 ** 3;

/**
 * `drip`: the file, 1 byte a second (a download that never finishes in time). `huge`: a Content-Length of
 * 5 GiB and the file repeated until the client stops reading. Both stop when the connection closes.
 */
export function sendVariant(res: ServerResponse, file: MediaFile, variant: MediaVariant): void {
  const size = variant === 'drip' ? file.data.length : HUGE_BYTES;
  res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': String(size), 'Cache-Control': 'no-store' });
  if (variant === 'drip') {
    let sent = 0;
    const timer = setInterval(() => {
      res.write(file.data.subarray(sent, sent + 1));
      if (++sent >= file.data.length) {
        clearInterval(timer);
        res.end();
      }
    }, 1000);
    res.on('close', () => clearInterval(timer));
    return;
  }
  let sent = 0;
  const pump = (): void => {
    while (!res.destroyed && sent < HUGE_BYTES) {
      const chunk = file.data.subarray(0, Math.min(file.data.length, HUGE_BYTES - sent));
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

// ---------------------------------------------------------------------------------------------- PNG

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

/** An 8-bit RGB PNG with a red/green/blue gradient. */
export function makePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  const pixel = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 1; // filter type 1 (Sub): each byte minus the same channel of the pixel to its left
    const prev = [0, 0, 0];
    for (let x = 0; x < width; x++) {
      pixel[0] = Math.round((x / Math.max(1, width - 1)) * 255);
      pixel[1] = Math.round((y / Math.max(1, height - 1)) * 255);
      pixel[2] = 255 - Math.round(((x + y) / Math.max(1, width + height - 2)) * 255);
      for (let c = 0; c < 3; c++) {
        raw[y * stride + 1 + x * 3 + c] = (pixel[c] - prev[c]) & 0xff;
        prev[c] = pixel[c];
      }
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------------------------------------- WAV

/** A mono 16-bit PCM WAV of a sine tone with 10 ms fades. */
export function makeWav(seconds: number, sampleRate: number, hz: number): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const dataBytes = samples * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // channels
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const fade = Math.max(1, Math.round(sampleRate * 0.01));
  for (let i = 0; i < samples; i++) {
    const env = Math.min(1, i / fade, (samples - 1 - i) / fade);
    const v = Math.sin((2 * Math.PI * hz * i) / sampleRate) * 0.4 * env;
    buf.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  return buf;
}
