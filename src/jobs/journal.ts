/**
 * The accepted-job journal: a provider accepted a paid call (it answered, with a job id) but the store
 * could not take the record. The entry is kept in a local file under the state dir, append-only JSON
 * lines, fsynced, mode 0600, and replayed into the store when it is back: at the start of every serving
 * process and on a small timer. Replay is idempotent (a job already recorded is never recorded twice,
 * whichever process replays it, and at the same time as another); an entry is marked done only once
 * its writes went through.
 *
 * Lines: {"v":1,"entry":{...}} for an accepted call, {"v":1,"done":"<reservation>"} once it is written.
 * When every entry is done the file is compacted away.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';
import type { JobRecord, Store } from '../store/store.js';

export const JOURNAL_FILE = 'accepted-journal.jsonl';
const COMPACTING = /^accepted-journal\.jsonl\.(\d+)\.[0-9a-f]+\.compacting$/;

/** One paid call the provider accepted, with everything the store must learn of it. */
export interface AcceptedEntry {
  /** The spend reservation of the call (also our job id). */
  reservation: string;
  provider: string;
  tool: string;
  principal: string;
  /** The provider's job id (job-creating tools). */
  providerJobId?: string;
  /** The job to record (job-creating tools). */
  job?: JobRecord;
  /** What the provider says it charged (answers of token-billed calls). */
  credits?: number;
  /** The idempotency key as stored (principal-scoped), when the call had one. */
  idempotencyKey?: string;
  /** When it was journaled (ms). */
  at: number;
}

/** The store holds another job where this one belongs: no retry will make it fit. */
export class AcceptedConflict extends Error {}

/** Record the job once: an existing row of the same provider job (ours, or adopted by jobs_track) is it. */
async function recordOnce(store: Store, job: JobRecord): Promise<JobRecord> {
  const byProviderId = async (): Promise<JobRecord | undefined> => {
    const other = await store.jobByProviderId(job.provider, job.providerJobId);
    if (other && other.principal !== job.principal)
      throw new AcceptedConflict(`${job.provider} job ${job.providerJobId} is recorded for another principal`);
    return other;
  };
  const adopted = await byProviderId();
  if (adopted) return adopted;
  try {
    await store.insertJob(job);
    return job;
  } catch (err) {
    // A conflict: written meanwhile (jobs_track, another process replaying): the same job, recorded.
    let after: JobRecord | undefined;
    try {
      const same = await store.getJob(job.id);
      if (same && (same.provider !== job.provider || same.providerJobId !== job.providerJobId))
        throw new AcceptedConflict(`job ${job.id} is recorded for another ${job.provider} job (${same.providerJobId})`);
      after = same ?? (await byProviderId());
    } catch (e) {
      throw e instanceof AcceptedConflict ? e : err;
    }
    if (after) return after;
    throw err;
  }
}

/**
 * Write an accepted call to the store, idempotently: the job (once), the reservation committed to it
 * (then refunded if the job already failed, as jobs_track would), the idempotency key settled.
 * Returns the recorded job (possibly an earlier row of the same provider job). Throws when the store fails.
 */
export async function writeAccepted(store: Store, e: AcceptedEntry, now: number): Promise<JobRecord | undefined> {
  const job = e.job ? await recordOnce(store, e.job) : undefined;
  const jobId = job?.id ?? e.reservation;
  await store.commit(e.reservation, jobId, now, e.credits);
  if (job?.status === 'failed') await store.refund(e.reservation, now);
  if (e.idempotencyKey) await store.settleIdempotency(e.idempotencyKey, jobId);
  return job;
}

interface Parsed {
  pending: AcceptedEntry[];
  lines: number;
}

function parse(text: string): Parsed {
  const entries = new Map<string, AcceptedEntry>();
  const done = new Set<string>();
  let lines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    lines++;
    try {
      const v = JSON.parse(line) as { entry?: AcceptedEntry; done?: unknown };
      if (typeof v.done === 'string') done.add(v.done);
      else if (v.entry && typeof v.entry.reservation === 'string') entries.set(v.entry.reservation, v.entry);
    } catch {
      // A line torn by a crash mid-write: its entry was never acknowledged to anyone.
    }
  }
  return { pending: [...entries.values()].filter((e) => !done.has(e.reservation)), lines };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class AcceptedJournal {
  private replaying = false;
  private failing = false;
  private readonly conflicts = new Set<string>();

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  static in(stateDir: string, logger: Logger): AcceptedJournal {
    return new AcceptedJournal(join(stateDir, JOURNAL_FILE), logger);
  }

  /** Append one entry, fsynced, before anyone is told about it. Lines start and end with a newline, so a
   * line torn by a crash never swallows the next one. */
  append(e: AcceptedEntry): void {
    this.write(`\n${JSON.stringify({ v: 1, entry: e })}\n`);
  }

  private write(line: string): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    for (let i = 0; i < 5; i++) {
      const created = !existsSync(this.file);
      const fd = openSync(this.file, 'a', 0o600);
      let moved: boolean;
      try {
        writeSync(fd, line);
        fsyncSync(fd);
        // A compaction renamed the file away while we wrote: write the line to the new one as well.
        moved = !sameFile(this.file, fstatSync(fd).ino);
      } finally {
        closeSync(fd);
      }
      if (created) syncDir(dirname(this.file));
      if (!moved) return;
    }
  }

  /** Entries not yet written to the store, this file's and a crashed compaction's. */
  pending(): AcceptedEntry[] {
    this.adoptOrphans();
    return existsSync(this.file) ? parse(readFileSync(this.file, 'utf8')).pending : [];
  }

  /** Write every pending entry to the store; returns how many were written. Never throws. */
  async replay(store: Store, now: () => number): Promise<number> {
    if (this.replaying) return 0;
    this.replaying = true;
    let written = 0;
    try {
      const pending = this.pending();
      for (const e of pending) {
        try {
          const job = await writeAccepted(store, e, now());
          this.write(`\n${JSON.stringify({ v: 1, done: e.reservation })}\n`);
          written++;
          this.logger.info('journaled paid call recorded in the store', {
            tool: e.tool,
            reservation: e.reservation,
            ...(job ? { job: job.id, providerJobId: job.providerJobId } : {}),
          });
        } catch (err) {
          if (err instanceof AcceptedConflict) {
            if (!this.conflicts.has(e.reservation))
              this.logger.error('journaled paid call conflicts with the ledger; kept in the journal', {
                tool: e.tool,
                reservation: e.reservation,
                providerJobId: e.providerJobId,
                conflict: err.message,
                journal: this.file,
              });
            this.conflicts.add(e.reservation);
            continue;
          }
          if (!this.failing)
            this.logger.warn('store still unavailable; journaled paid calls will be replayed later', {
              pending: pending.length - written,
              error: err instanceof Error ? err.message : String(err),
            });
          this.failing = true;
          return written;
        }
      }
      this.failing = false;
      if (existsSync(this.file) && this.pending().length === 0) this.compact();
    } catch (err) {
      this.logger.warn('journal replay failed; will retry', { journal: this.file, error: String(err) });
    } finally {
      this.replaying = false;
    }
    return written;
  }

  /** Replay now, then every `everyMs` (an unref'd timer); returns the stop function. */
  start(store: Store, now: () => number, everyMs = 3_000): () => void {
    void this.replay(store, now);
    const timer = setInterval(() => void this.replay(store, now), everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Everything is done: move the file away, carry over what was appended in between, delete it. */
  private compact(): void {
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.compacting`;
    try {
      renameSync(this.file, tmp);
    } catch {
      return; // another process compacted it first
    }
    this.carryOver(tmp);
  }

  private carryOver(from: string): void {
    for (const e of parse(readFileSync(from, 'utf8')).pending) this.append(e);
    unlinkSync(from);
  }

  /** A compaction interrupted by a crash (its process is gone) leaves a file: its entries come back. */
  private adoptOrphans(): void {
    const dir = dirname(this.file);
    if (!existsSync(dir) || basename(this.file) !== JOURNAL_FILE) return;
    for (const name of readdirSync(dir)) {
      const m = COMPACTING.exec(name);
      if (!m || pidAlive(Number(m[1]))) continue;
      try {
        this.carryOver(join(dir, name));
      } catch {
        // another process adopted it first
      }
    }
  }
}

function sameFile(path: string, ino: number): boolean {
  try {
    return statSync(path).ino === ino;
  } catch {
    return false;
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every platform can fsync a directory
  }
}
