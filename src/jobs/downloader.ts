/**
 * Download a finished job's outputs: at most one download per job at a time in this process (later
 * callers share the one in flight), outputs already on disk reported rather than fetched again, at most
 * `maxOutputs` per job, all within the caller's time budget. Per-output problems (refused, HTTP error,
 * over the size limit) are reported next to the job, never thrown: the job's URLs are always returned.
 */
import { existsSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from 'undici';
import { MediagenError } from '../errors.js';
import type { JobRecord, Store } from '../store/store.js';
import type { DownloadPolicy } from './ssrf.js';

/** The download code (and undici with it) is loaded on the first download, not at start-up. */
type DownloadModule = typeof import('./download.js');
let downloadModule: Promise<DownloadModule> | undefined;
const loadDownload = (): Promise<DownloadModule> => (downloadModule ??= import('./download.js'));

export interface DownloaderSettings {
  /** Absolute output folder; downloads are refused when unset. */
  dir?: string;
  maxBytes: number;
  /** Outputs of one job downloaded at most. */
  maxOutputs: number;
  policy: DownloadPolicy;
}

export interface DownloadReport {
  job: JobRecord;
  /** Output numbers (1-based) saved by this call, and found already saved. */
  saved: number[];
  already: number[];
  problems: { output: number; reason: string }[];
  /** Outputs not downloaded because of the per-job cap. */
  skipped: number;
  /** The time ran out (or another call is still downloading): call again. */
  complete: boolean;
  /** Set when this call waited for another call's download that had not finished. */
  inProgress?: boolean;
  /** Why nothing was downloaded (e.g. the output folder is a symlink). */
  refused?: string;
}

interface Flight {
  promise: Promise<DownloadReport>;
  ctl: AbortController;
  waiters: number;
}

const isUrl = (u: string): boolean => /^https?:\/\//i.test(u);

/** Our temp files only (download.ts names them `.<job id>-<n>.<16 hex>.part`). */
export const PART_FILE = /^\.job_[0-9a-z]+-\d{1,6}\.[0-9a-f]{16}\.part$/;
/**
 * A temp file older than this is an orphan (a process killed mid-download): every download's deadline
 * is at most the longest wait (55 s) plus a second, and this leaves room for clocks of processes that
 * share the folder.
 */
export const STALE_PART_MS = 2 * 60_000;

function describe(err: unknown, refusalIn: DownloadModule['refusalIn']): string {
  const refused = refusalIn(err);
  if (refused) return `refused: ${refused.message}`;
  if (err instanceof MediagenError) return err.message;
  const e = err as { code?: unknown; message?: unknown };
  return `failed: ${typeof e.code === 'string' ? `${e.code} ` : ''}${String(e.message ?? err)}`.slice(0, 300);
}

export class Downloader {
  readonly settings: DownloaderSettings;
  private agent?: Promise<Agent>;
  private readonly flights = new Map<string, Flight>();

  constructor(
    settings: DownloaderSettings,
    private readonly deps: { store: Store; now: () => number },
  ) {
    this.settings = settings;
  }

  /** The guarded connection pool, made on the first download. */
  private agentFor(): Promise<Agent> {
    return (this.agent ??= import('./ssrf.js').then((m) => m.guardedAgent(this.settings.policy)));
  }

  /** Download `job`'s outputs within `timeoutMs`; shares a download of the same job already in flight. */
  download(job: JobRecord, timeoutMs: number, signal?: AbortSignal): Promise<DownloadReport> {
    let flight = this.flights.get(job.id);
    const joined = flight !== undefined;
    if (!flight) {
      const ctl = new AbortController();
      const promise = this.run(job, timeoutMs, ctl.signal).finally(() => this.flights.delete(job.id));
      flight = { ctl, waiters: 0, promise };
      this.flights.set(job.id, flight);
    }
    return this.join(flight, job, joined ? timeoutMs : timeoutMs + 1_000, signal);
  }

  /**
   * At start: remove orphan temp files of downloads that cannot still be running (our naming pattern
   * only, directly in the output folder, regular files older than STALE_PART_MS). Anything else in the
   * folder is left alone. Returns how many were removed.
   */
  sweepStaleParts(now = this.deps.now()): number {
    const dir = this.settings.dir;
    if (!dir) return 0;
    let names: string[];
    try {
      if (!lstatSync(dir).isDirectory()) return 0; // a symlinked folder is refused for downloads too
      names = readdirSync(dir).filter((n) => PART_FILE.test(n));
    } catch {
      return 0; // no folder yet: nothing to clean
    }
    let removed = 0;
    for (const name of names) {
      const path = join(dir, name);
      try {
        const st = lstatSync(path);
        if (!st.isFile() || now - st.mtimeMs <= STALE_PART_MS) continue;
        unlinkSync(path);
        removed++;
      } catch {
        // gone already (another process swept it) or not ours to remove
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    for (const f of this.flights.values()) f.ctl.abort(new Error('server closing'));
    if (this.agent) await (await this.agent).destroy();
  }

  /** Wait for a flight, until it ends, this caller's own time is up, or this caller is cancelled. */
  private join(f: Flight, job: JobRecord, timeoutMs: number, signal?: AbortSignal): Promise<DownloadReport> {
    f.waiters++;
    return new Promise<DownloadReport>((resolve, reject) => {
      let done = false;
      const leave = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        f.waiters--;
        return true;
      };
      const onAbort = (): void => {
        if (!leave()) return;
        if (f.waiters === 0) f.ctl.abort(signal?.reason);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        if (leave())
          resolve({ job, saved: [], already: [], problems: [], skipped: 0, complete: false, inProgress: true });
      }, timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      f.promise.then(
        (r) => leave() && resolve(r),
        (e: unknown) => leave() && reject(e),
      );
    });
  }

  private async run(start: JobRecord, timeoutMs: number, signal: AbortSignal): Promise<DownloadReport> {
    const deadline = Date.now() + timeoutMs;
    let job = (await this.deps.store.getJob(start.id)) ?? start;
    const s = this.settings;
    const report: DownloadReport = { job, saved: [], already: [], problems: [], skipped: 0, complete: true };
    const wanted = job.outputs.map((o, i) => ({ o, n: i + 1 })).filter(({ o }) => isUrl(o.url));
    report.skipped = Math.max(0, wanted.length - s.maxOutputs);
    const todo = wanted.slice(0, s.maxOutputs).filter(({ o, n }) => {
      if (!o.path || !existsSync(o.path)) return true;
      report.already.push(n);
      return false;
    });
    if (todo.length === 0) return report;
    if (!s.dir) throw new MediagenError('NOT_CONFIGURED', 'Downloads need an output folder (MEDIAGEN_OUTPUT_DIR).');
    const { DownloadIncomplete, downloadOutput, prepareFolder, refusalIn } = await loadDownload();
    const agent = await this.agentFor();
    try {
      await prepareFolder(s.dir);
    } catch (err) {
      report.refused = describe(err, refusalIn);
      return report;
    }
    const outputs = [...job.outputs];
    for (const { o, n } of todo) {
      const left = deadline - Date.now();
      if (left <= 0) {
        report.complete = false;
        break;
      }
      try {
        const path = await downloadOutput(job.id, n, o, {
          dir: s.dir,
          maxBytes: s.maxBytes,
          timeoutMs: left,
          signal,
          dispatcher: agent,
          policy: s.policy,
        });
        outputs[n - 1] = { ...o, path };
        report.saved.push(n);
        job = (await this.deps.store.updateJob(job.id, { outputs: [...outputs] }, this.deps.now())) ?? job;
        report.job = job;
      } catch (err) {
        if (err instanceof DownloadIncomplete) {
          report.complete = false;
          break;
        }
        if (signal.aborted) throw err;
        report.problems.push({ output: n, reason: describe(err, refusalIn) });
      }
    }
    return report;
  }
}
