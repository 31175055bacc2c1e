/**
 * Previews of a succeeded job's outputs: each image (and each video's cover) as a JPEG thumbnail, each
 * short audio clip as itself. Bytes come from the kept copy in the output store when there is one, else
 * from the provider's URL through the download guards (SSRF, size cap, deadline). A thumbnail is cached
 * beside the kept copy in the output store (`<n>.thumb.jpg`: it survives restarts and serves every
 * replica), else in memory; a refusal is remembered in memory, a failed fetch for five minutes. Nothing
 * here ever fails a job: trouble is a one-line note.
 */
import { basename, resolve } from 'node:path';
import type { Agent } from 'undici';
import type { DownloadPolicy } from '../jobs/ssrf.js';
import type { Logger } from '../log.js';
import { LocalStore } from '../outputs/local.js';
import { thumbnailKey, type OutputStore } from '../outputs/store.js';
import { RAW_RESULT } from '../jobs/results.js';
import type { JobOutput, JobRecord } from '../store/store.js';
import { AUDIO_LIMITS } from './audio.js';
import { clipInWorker, makeThumbnail, THUMB_LIMITS, type ThumbLimits } from './thumbnail.js';

export interface PreviewBlock {
  type: 'image' | 'audio';
  data: string;
  mimeType: string;
}

/** One output's preview (n: 1-based, as the job's outputs are numbered in results). */
export interface OutputPreview {
  n: number;
  block?: PreviewBlock;
  /** Why there is none, in one line. */
  note?: string;
  /** For a video: the cover output the thumbnail is made from. */
  coverOf?: number;
}

export interface PreviewSettings {
  policy: DownloadPolicy;
  /** A source file larger than this is not fetched for a preview. */
  maxSourceBytes: number;
  limits?: ThumbLimits;
  /** Time for one output's bytes to arrive (ms). */
  fetchMs?: number;
  /** The --output-dir folder: an output downloaded there (`path`) is read from it, not fetched again. */
  outputDir?: string;
  /** Outputs are kept: one not kept yet is previewed from its kept copy later, never fetched twice. */
  keeps?: boolean;
  /** The clock a failure's memory expires by (ms); default Date.now. */
  now?: () => number;
}

const SHOWN = (o: JobOutput): boolean => o.kind !== RAW_RESULT;
/** Previews kept in memory per app (an image block is at most ~400 KB of base64). */
const CACHE_ENTRIES = 64;
/** A failed fetch (a dead or hanging URL) is not tried again for this long. */
export const FAILURE_MEMORY_MS = 5 * 60_000;

export class Previewer {
  private agent?: Promise<Agent>;
  /** job#n -> the preview, for outputs without a kept copy, and every refusal. */
  private readonly memory = new Map<string, { p: OutputPreview; until?: number }>();
  private readonly flights = new Map<string, Promise<OutputPreview>>();

  constructor(
    private readonly outputs: OutputStore,
    private readonly s: PreviewSettings,
    private readonly logger?: Logger,
  ) {}

  /** The outputs as results number them (the raw-result excerpt left out). */
  static shown(job: JobRecord): JobOutput[] {
    return job.outputs.filter(SHOWN);
  }

  /**
   * Previews of every output that can have one (images, covers, audio), at most budgetMs in all; an
   * output still being made then gets a note and goes on, so the next read finds it cached.
   */
  async forJob(job: JobRecord, budgetMs: number): Promise<OutputPreview[]> {
    if (job.status !== 'succeeded') return [];
    const outs = Previewer.shown(job);
    const wanted = outs
      .map((o, i) => ({ o, n: i + 1 }))
      .filter(({ o }) => /^https?:\/\//i.test(o.url) && ['image', 'cover', 'audio'].includes(o.kind));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, budgetMs))));
    try {
      return await Promise.all(
        wanted.map(async ({ n }) => {
          const r = await Promise.race([this.preview(job, n), late]);
          return r === 'late' ? { n, note: 'the preview was not ready in time; ask for the job again' } : r;
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The thumbnail of output n (a video: its cover's), or a note, within budgetMs (as forJob). */
  async thumbnailOf(job: JobRecord, n: number, budgetMs: number): Promise<OutputPreview> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<OutputPreview>(
      (r) =>
        (timer = setTimeout(
          () => r({ n, note: 'the preview was not ready in time; ask for it again' }),
          Math.max(0, budgetMs),
        )),
    );
    try {
      return await Promise.race([this.coverOrImage(job, n), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async coverOrImage(job: JobRecord, n: number): Promise<OutputPreview> {
    const outs = Previewer.shown(job);
    const o = outs[n - 1];
    if (!o) return { n, note: `the job has no output ${n}` };
    if (o.kind === 'video') {
      const covers = outs.map((x, i) => ({ x, i })).filter(({ x }) => x.kind === 'cover');
      // A cover names its video (`of`, same result item); a record kept before that pairs k-th with k-th.
      const cover = covers.some(({ x }) => x.of !== undefined)
        ? covers.find(({ x }) => x.of === n)
        : covers[outs.slice(0, n).filter((x) => x.kind === 'video').length - 1];
      if (!cover) return { n, note: `${job.provider} gave no cover image for this video` };
      return { ...(await this.preview(job, cover.i + 1)), n, coverOf: cover.i + 1 };
    }
    if (o.kind !== 'image' && o.kind !== 'cover') return { n, note: `output ${n} is ${o.kind}, not an image` };
    return this.preview(job, n);
  }

  private preview(job: JobRecord, n: number): Promise<OutputPreview> {
    const id = `${job.id}#${n}`;
    const now = this.s.now ?? Date.now;
    const known = this.memory.get(id);
    if (known && (known.until === undefined || known.until > now())) return Promise.resolve(known.p);
    let flight = this.flights.get(id);
    if (!flight) {
      // A failure (a dead URL, a fetch past its deadline) is remembered for a while, so every read of the
      // job does not spend the fetch deadline on it again.
      flight = this.make(job, n)
        .catch((err: unknown): OutputPreview =>
          this.remember(
            id,
            { n, note: `no preview (${(err as Error).message.slice(0, 160)})` },
            now() + FAILURE_MEMORY_MS,
          ),
        )
        .finally(() => this.flights.delete(id));
      this.flights.set(id, flight);
    }
    return flight;
  }

  private remember(id: string, p: OutputPreview, until?: number): OutputPreview {
    this.memory.delete(id);
    this.memory.set(id, until === undefined ? { p } : { p, until });
    if (this.memory.size > CACHE_ENTRIES) this.memory.delete(this.memory.keys().next().value as string);
    return p;
  }

  /** Whether output `o`'s kept copy is in this server's store (and its principal's). */
  private keptHere(job: JobRecord, o: JobOutput): o is JobOutput & { storedKey: string } {
    return !!o.storedKey && o.storedIn === this.outputs.identity && this.outputs.owns(job.principal, o.storedKey);
  }

  private async make(job: JobRecord, n: number): Promise<OutputPreview> {
    const o = Previewer.shown(job)[n - 1];
    const id = `${job.id}#${n}`;
    const limits = this.s.limits ?? THUMB_LIMITS;
    const fetchMs = this.s.fetchMs ?? 20_000;
    // Keeping read its bytes and found them wrong (a type that does not match, a refused address): no fetch.
    if (o.storeError) return this.remember(id, { n, note: `no preview (${o.storeError})` });
    const kept = this.keptHere(job, o);
    const image = o.kind !== 'audio';
    if (image && kept) {
      const cached = await this.outputs
        .read(thumbnailKey(o.storedKey), limits.maxBytes, fetchMs)
        .catch(() => undefined);
      if (cached) return { n, block: { type: 'image', data: cached.toString('base64'), mimeType: 'image/jpeg' } };
    }
    // An audio clip is at most 600 KB: nothing bigger is fetched for it.
    const maxBytes = image ? this.s.maxSourceBytes : Math.min(this.s.maxSourceBytes, AUDIO_LIMITS.maxBytes);
    const saved = kept ? undefined : await this.savedCopy(o, maxBytes);
    if (this.s.keeps && !o.storedKey && !saved)
      return { n, note: 'the output is still being kept; its preview comes with a later read' };
    const bytes = saved ?? (await this.bytesOf(job, o, fetchMs, maxBytes));
    if (!bytes)
      return this.remember(id, {
        n,
        note: image
          ? `no preview: the file is over the ${maxBytes}-byte limit`
          : `no audio preview: the file is over the ${maxBytes / 1024} KB audio cap`,
      });
    if (!image) {
      const clip = await clipInWorker(bytes, o.storedType ?? o.mimeType, limits);
      return this.remember(
        id,
        clip.ok
          ? { n, block: { type: 'audio', data: clip.data.toString('base64'), mimeType: clip.mimeType } }
          : { n, note: `no audio preview: ${clip.reason}` },
      );
    }
    const thumb = await makeThumbnail(bytes, limits);
    if (!thumb.ok) {
      this.logger?.info(`job ${job.id}: no preview of output ${n}: ${thumb.reason}`, { job: job.id });
      return this.remember(id, { n, note: `no preview: ${thumb.reason}` });
    }
    const p: OutputPreview = {
      n,
      block: { type: 'image', data: Buffer.from(thumb.data).toString('base64'), mimeType: thumb.mimeType },
    };
    if (kept) {
      try {
        await this.outputs.write(thumbnailKey(o.storedKey), thumb.data, thumb.mimeType, fetchMs);
        return p;
      } catch (err) {
        this.logger?.warn(`job ${job.id}: thumbnail of output ${n} not cached: ${(err as Error).message}`);
      }
    }
    return this.remember(id, p);
  }

  /** The output's bytes: the kept copy, else the provider URL through the download guards; undefined if too big. */
  private async bytesOf(
    job: JobRecord,
    o: JobOutput,
    timeoutMs: number,
    maxBytes: number,
  ): Promise<Buffer | undefined> {
    // Outputs are kept: a kept copy that cannot be read is a note, never a second download from the provider.
    if (this.keptHere(job, o)) {
      if ((o.storedBytes ?? 0) > maxBytes) return undefined;
      const b = await this.outputs.read(o.storedKey, maxBytes, timeoutMs).catch((err: unknown) => {
        throw new Error(`the kept copy could not be read (${(err as Error).message.slice(0, 120)})`);
      });
      if (!b) throw new Error('the kept copy is missing');
      return b;
    }
    const dl = await import('../jobs/download.js');
    const agent = await (this.agent ??= import('../jobs/ssrf.js').then((m) => m.guardedAgent(this.s.policy)));
    try {
      return await dl.fetchBytes(o.url, {
        maxBytes,
        timeoutMs,
        dispatcher: agent,
        policy: this.s.policy,
      });
    } catch (err) {
      if (/over the \d+-byte limit/.test((err as Error).message)) return undefined;
      const refused = dl.refusalIn(err);
      throw new Error(refused ? `refused: ${refused.message}` : (err as Error).message);
    }
  }

  /** An output a download saved in the output folder: a plain file name there, read without following a link. */
  private async savedCopy(o: JobOutput, maxBytes: number): Promise<Buffer | undefined> {
    const dir = this.s.outputDir;
    if (!o.path || !dir || resolve(o.path) !== resolve(dir, basename(o.path))) return undefined;
    return new LocalStore(dir).read(basename(o.path), maxBytes).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.agent) await (await this.agent).destroy();
  }
}
