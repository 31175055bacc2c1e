/**
 * The output store: where kept job outputs and uploaded inputs live. Two kinds: `local`, the
 * --output-dir folder (confined as downloads are; no URL anyone else can fetch, so its "link" is the
 * absolute file path), and `s3`, an S3-compatible bucket (presigned GET and PUT links).
 *
 * Keys are `PREFIX/<principal>/<job id>/<n>.<ext>` for kept outputs and `PREFIX/<principal>/uploads/<random>.<ext>`
 * for uploads (s3). The local folder is flat, as downloads are: `<job id>-<n>.<ext>` (job ids are unique
 * across principals, and no sub-folder can be swapped for a symbolic link).
 */

export interface PutOptions {
  contentType: string;
  bytes: number;
  signal?: AbortSignal;
  /** The whole put, at most. */
  timeoutMs: number;
}

export interface OutputStore {
  readonly kind: 'local' | 's3';
  /** Which store this is, recorded beside each kept output (`s3://<bucket>`, `local:<absolute folder>`). */
  readonly identity: string;
  /** The largest object it can store (s3: 5 GiB, one PUT); none for a local folder. */
  readonly maxObjectBytes?: number;
  /** Where outputs are spooled before they are stored (a folder this process owns). */
  spoolDir(): Promise<string>;
  /** The key a job's output n (1-based) is kept under, with the extension its magic bytes gave. */
  outputKey(principal: string, jobId: string, n: number, ext: string): string;
  /** Move or copy a spooled file into the store under `key`; the spooled file is gone afterwards. */
  putFile(key: string, file: string, o: PutOptions): Promise<void>;
  /** The link for a kept object: a fresh presigned GET (s3) or the absolute path (local). */
  link(key: string, ttlSeconds: number): Promise<string>;
  /** Whether `key` belongs to `principal` (links are only ever signed for the job's own principal). */
  owns(principal: string, key: string): boolean;
  /**
   * For a kept output recorded without `storedIn`: whether `key` plausibly lies in this store (s3: a key
   * under this prefix; local: a plain file name that exists in the folder). Never throws.
   */
  holds(principal: string, key: string): Promise<boolean>;
  /** The bytes of a kept object, or undefined when there is none (or it is over maxBytes). */
  read(key: string, maxBytes: number, timeoutMs: number): Promise<Buffer | undefined>;
  /** Store small bytes (a thumbnail) as `key`, replacing any object there. */
  write(key: string, data: Uint8Array, contentType: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The key a kept output's thumbnail is cached under: beside it, `<key without extension>.thumb.jpg`. */
export function thumbnailKey(storedKey: string): string {
  return `${storedKey.replace(/\.[A-Za-z0-9]{1,5}$/, '')}.thumb.jpg`;
}

/**
 * A principal as one key segment: letters, digits and `. _ @ -` as they are, anything else (and a
 * leading dot, so never `.` or `..`) as `~` and two hex digits per byte. Injective: `~` is always escaped.
 */
export function principalSegment(principal: string): string {
  let out = '';
  for (const [i, ch] of [...principal].entries()) {
    if (/^[A-Za-z0-9_@-]$/.test(ch) || (ch === '.' && i > 0)) out += ch;
    else out += [...Buffer.from(ch, 'utf8')].map((b) => `~${b.toString(16).padStart(2, '0')}`).join('');
  }
  return out === '' ? '~' : out;
}

/** `PREFIX/<principal>/` (no leading slash; no PREFIX when it is empty). */
export function principalPrefix(prefix: string, principal: string): string {
  return `${prefix ? `${prefix}/` : ''}${principalSegment(principal)}/`;
}
