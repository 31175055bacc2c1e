/**
 * Keeping a succeeded job's outputs in the output store: every http(s) output (at most maxOutputs)
 * fetched from the provider's URL through the download guards (jobs/download.ts: the SSRF-guarded agent
 * on every hop, redirects included, the size cap, a deadline, an exclusive temp file), its type read from
 * its magic bytes and checked against the declared kind, then stored as `<principal>/<job id>/<n>.<ext>`
 * and recorded on the job (storedKey, storedBytes, storedType).
 *
 * An output already saved in the output folder by a download (`path`) is copied from there instead of
 * fetched again (a plain file name in that folder, a regular file, within the cap, the declared kind).
 *
 * Idempotent: an output already kept, or already refused (storeError), is not fetched again. A refused
 * address, an HTTP 4xx, an output over the cap or of the wrong type is that output's storeError. Only
 * transient trouble (the bucket unreachable, the provider's 5xx, a network error, time running out) is
 * reported as `transient`, so the worker retries later. At most one keep per job runs in this process.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat, rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Agent } from 'undici';
import type { Logger } from '../log.js';
import type { JobOutput, JobRecord, Store } from '../store/store.js';
import type { DownloadPolicy } from '../jobs/ssrf.js';
import { MediagenError } from '../errors.js';
import { detectFile, kindMismatch } from './media-type.js';
import type { OutputStore } from './store.js';

export interface KeeperSettings {
  maxBytes: number;
  maxOutputs: number;
  policy: DownloadPolicy;
  /** The --output-dir folder: an output already saved there (download: true) is copied, not fetched again. */
  outputDir?: string;
}

export interface KeepReport {
  job: JobRecord;
  kept: number[];
  refused: { output: number; reason: string }[];
  /** Set when something should be tried again later (the outputs kept so far are recorded). */
  transient?: Error;
  /** This caller stopped waiting; the keep goes on. */
  running?: boolean;
}

/** The longest one keep may take when the caller gives no budget (the worker). */
export const KEEP_MS = 10 * 60_000;

const isUrl = (u: string): boolean => /^https?:\/\//i.test(u);

type DownloadModule = typeof import('../jobs/download.js');

export class Keeper {
  private agent?: Promise<Agent>;
  private readonly flights = new Map<string, Promise<KeepReport>>();
  private readonly ctl = new AbortController();

  constructor(
    readonly outputs: OutputStore,
    private readonly s: KeeperSettings,
    private readonly deps: { store: Store; now: () => number; logger?: Logger },
  ) {}

  /** Outputs of `job` still to be kept (none once every output is kept or refused). */
  pending(job: JobRecord): number {
    if (job.status !== 'succeeded') return 0;
    return this.wanted(job).filter(({ o }) => !o.storedKey && !o.storeError).length;
  }

  private wanted(job: JobRecord): { o: JobOutput; n: number }[] {
    return job.outputs
      .map((o, i) => ({ o, n: i + 1 }))
      .filter(({ o }) => isUrl(o.url))
      .slice(0, this.s.maxOutputs);
  }

  /**
   * Keep `job`'s outputs, waiting at most budgetMs (or until `signal`). The keep itself runs on its own
   * (up to KEEP_MS, shared by every caller here) and goes on after a caller stops waiting; such a caller
   * gets the job as recorded so far, with `running` set.
   */
  async keep(job: JobRecord, signal: AbortSignal, budgetMs = KEEP_MS): Promise<KeepReport> {
    let flight = this.flights.get(job.id);
    if (!flight) {
      flight = this.run(job, this.ctl.signal).finally(() => this.flights.delete(job.id));
      flight.catch(() => undefined);
      this.flights.set(job.id, flight);
    }
    const r = await within(flight, signal, budgetMs);
    if (r) return r;
    const now = (await this.deps.store.getJob(job.id)) ?? job;
    return { job: now, kept: [], refused: [], running: true };
  }

  async close(): Promise<void> {
    this.ctl.abort(new Error('server closing'));
    if (this.agent) await (await this.agent).destroy();
  }

  private async run(start: JobRecord, signal: AbortSignal): Promise<KeepReport> {
    const deadline = Date.now() + KEEP_MS;
    let job = (await this.deps.store.getJob(start.id)) ?? start;
    const report: KeepReport = { job, kept: [], refused: [] };
    if (job.status !== 'succeeded') return report;
    const todo = this.wanted(job).filter(({ o }) => !o.storedKey && !o.storeError);
    if (todo.length === 0) return report;
    const dl = await import('../jobs/download.js');
    const agent = await (this.agent ??= import('../jobs/ssrf.js').then((m) => m.guardedAgent(this.s.policy)));
    for (const { o, n } of todo) {
      const left = deadline - Date.now();
      if (left <= 0) {
        report.transient = new Error(`keeping the outputs of ${job.id} did not finish in time`);
        break;
      }
      let patch: Partial<JobOutput>;
      try {
        patch = await this.keepOne(job, o, n, left, signal, agent, dl);
      } catch (err) {
        if (signal.aborted) throw err;
        report.transient = err instanceof Error ? err : new Error(String(err));
        break;
      }
      if (patch.storeError) {
        report.refused.push({ output: n, reason: patch.storeError });
        this.deps.logger?.warn(`job ${job.id}: output ${n} not kept: ${patch.storeError}`, { job: job.id });
      } else report.kept.push(n);
      job = await this.record(job, n, patch);
      report.job = job;
    }
    if (report.kept.length)
      this.deps.logger?.debug(`job ${job.id}: output(s) ${report.kept.join(', ')} kept in the output store`, {
        job: job.id,
      });
    return report;
  }

  /** One output: the patch to record (stored or refused); throws on transient trouble. */
  private async keepOne(
    job: JobRecord,
    o: JobOutput,
    n: number,
    timeoutMs: number,
    signal: AbortSignal,
    agent: Agent,
    dl: DownloadModule,
  ): Promise<Partial<JobOutput>> {
    const started = Date.now();
    let file: string;
    try {
      file =
        (await this.copySaved(job, o, n)) ??
        (await dl.downloadOutput(job.id, n, o, {
          dir: await this.outputs.spoolDir(),
          maxBytes: this.s.maxBytes,
          timeoutMs,
          signal,
          dispatcher: agent,
          policy: this.s.policy,
        }));
    } catch (err) {
      const refused = permanent(err, dl);
      if (refused) return { storeError: refused };
      throw err;
    }
    const drop = (): Promise<void> => (file === o.path ? Promise.resolve() : rm(file, { force: true }));
    try {
      const type = await detectFile(file);
      const bad = kindMismatch(o.kind, type);
      if (bad || !type) {
        await drop();
        return { storeError: `not kept: ${bad ?? 'unknown type'}` };
      }
      const bytes = (await stat(file)).size;
      const max = this.outputs.maxObjectBytes;
      if (max !== undefined && bytes > max) {
        await drop();
        return { storeError: `not kept: ${bytes} bytes is over the output store's ${max}-byte limit for one object` };
      }
      const key = this.outputs.outputKey(job.principal, job.id, n, type.ext);
      await this.outputs.putFile(key, file, {
        contentType: type.mime,
        bytes,
        signal,
        timeoutMs: Math.max(1_000, timeoutMs - (Date.now() - started)),
      });
      return { storedKey: key, storedIn: this.outputs.identity, storedBytes: bytes, storedType: type.mime };
    } catch (err) {
      await drop();
      throw err;
    }
  }

  /**
   * The output as already saved by a download (`path`), copied into the spool, or undefined when there is
   * none to trust: the path must be a plain file name in the output folder, the file (opened without
   * following a link or waiting on a FIFO) a regular file within the size cap, its magic bytes the kind
   * the provider declared. Only the opened file is read. Anything else: the output is fetched as usual.
   */
  private async copySaved(job: JobRecord, o: JobOutput, n: number): Promise<string | undefined> {
    const dir = this.s.outputDir;
    if (!o.path || !dir) return undefined;
    const { confinedPath } = await import('../jobs/results.js');
    let inside: string;
    try {
      inside = confinedPath(dir, basename(o.path));
    } catch {
      return undefined;
    }
    if (resolve(o.path) !== inside) return undefined;
    const fd = await open(inside, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      () => undefined,
    );
    if (!fd) return undefined;
    let part: string | undefined;
    try {
      const st = await fd.stat();
      if (!st.isFile() || st.size === 0 || st.size > this.s.maxBytes) return undefined;
      part = confinedPath(await this.outputs.spoolDir(), `.${job.id}-${n}.${randomBytes(8).toString('hex')}.part`);
      const out = await open(part, 'wx', 0o644);
      await pipeline(fd.createReadStream({ start: 0, autoClose: false }), out.createWriteStream());
      // A saved file that is not what the provider declared (changed since?) is not trusted: fetch it again.
      const type = await detectFile(part);
      if (!type || kindMismatch(o.kind, type)) return undefined;
      const copied = part;
      part = undefined;
      return copied;
    } catch {
      return undefined;
    } finally {
      if (part) await rm(part, { force: true });
      await fd.close();
    }
  }

  /** Record one output's patch on the job as it is now in the store (a download may have set `path`). */
  private async record(job: JobRecord, n: number, patch: Partial<JobOutput>): Promise<JobRecord> {
    const fresh = (await this.deps.store.getJob(job.id)) ?? job;
    const outputs = [...fresh.outputs];
    const local =
      this.outputs.kind === 'local' && patch.storedKey ? { path: await this.outputs.link(patch.storedKey, 0) } : {};
    outputs[n - 1] = { ...outputs[n - 1], ...patch, ...local };
    return (await this.deps.store.updateJob(job.id, { outputs }, this.deps.now())) ?? fresh;
  }
}

/** Why an output can never be kept (a refused address, a 4xx, over the cap), or undefined when it may yet be. */
function permanent(err: unknown, dl: DownloadModule): string | undefined {
  const refused = dl.refusalIn(err);
  if (refused) return `refused: ${refused.message}`;
  if (err instanceof dl.DownloadIncomplete) return undefined;
  if (err instanceof MediagenError) {
    if (err.code === 'BAD_ARGUMENTS') return err.message;
    const status = /HTTP (\d{3})/.exec(err.message)?.[1];
    if (err.code === 'PROVIDER_HTTP' && status && status.startsWith('4') && status !== '408' && status !== '429')
      return `the provider's URL answered HTTP ${status}`;
  }
  return undefined;
}

/** The flight's report, or undefined when `budgetMs` ran out first; rejects when `signal` aborts. */
function within(flight: Promise<KeepReport>, signal: AbortSignal, budgetMs: number): Promise<KeepReport | undefined> {
  return new Promise<KeepReport | undefined>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(
      () => {
        done();
        resolve(undefined);
      },
      Math.max(0, budgetMs),
    );
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    flight.then(
      (r) => {
        done();
        resolve(r);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
