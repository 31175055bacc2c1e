/**
 * @jsquash/webp (libwebp compiled to WebAssembly) in Node: the codec's Emscripten factory is imported
 * from the package folder and handed its .wasm file, compiled here, so nothing is fetched and no bundler
 * is needed. The decoder serves thumbnails; the encoder only the sandbox's sample WebP.
 */
import { readFile } from 'node:fs/promises';

export interface Rgba {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

interface WebpDecoder {
  decode(data: Uint8Array): Rgba | null;
}
interface WebpEncoder {
  encode(
    data: Uint8Array | Uint8ClampedArray,
    width: number,
    height: number,
    options: Record<string, number>,
  ): Uint8Array | null;
}
type Factory<T> = (opts: Record<string, unknown>) => Promise<T>;

/** Emscripten's glue builds an ImageData; Node has none. */
function ensureImageData(): void {
  const g = globalThis as { ImageData?: unknown };
  g.ImageData ??= class ImageData {
    constructor(
      readonly data: Uint8ClampedArray,
      readonly width: number,
      readonly height: number,
    ) {}
  };
}

async function load<T>(glue: string, wasm: string): Promise<T> {
  ensureImageData();
  const url = import.meta.resolve(`@jsquash/webp/${glue}`);
  const mod = (await import(url)) as { default: Factory<T> };
  const compiled = await WebAssembly.compile(await readFile(new URL(wasm, url)));
  return mod.default({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(compiled, imports);
      done(instance);
      return instance.exports;
    },
  });
}

/** A codec loaded once; a load that fails is forgotten, so the next call tries again. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= make().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}
const decoder = once(() => load<WebpDecoder>('codec/dec/webp_dec.js', 'webp_dec.wasm'));
const encoder = once(() => load<WebpEncoder>('codec/enc/webp_enc.js', 'webp_enc.wasm'));

/** Decode a WebP file to RGBA; throws on a file libwebp refuses. */
export async function decodeWebp(bytes: Uint8Array): Promise<Rgba> {
  const out = (await decoder()).decode(bytes);
  if (!out) throw new Error('not a WebP libwebp can decode');
  return out;
}

/**
 * Encode RGBA as a lossy WebP of `quality` (0-100). The codec and its options load together: when both fail
 * (the package's folder missing), each failure is awaited, and the call fails instead of the process.
 */
export async function encodeWebp(img: Rgba, quality: number): Promise<Buffer> {
  const [codec, meta] = await Promise.all([
    encoder(),
    import(import.meta.resolve('@jsquash/webp/meta.js')) as Promise<{ defaultOptions: Record<string, number> }>,
  ]);
  const out = codec.encode(img.data, img.width, img.height, { ...meta.defaultOptions, quality });
  if (!out) throw new Error('WebP encoding failed');
  return Buffer.from(out);
}
