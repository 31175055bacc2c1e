/**
 * Links to a job's kept outputs, made fresh on every read: for s3 a presigned GET signed now (so an
 * expired link is never the only way back: the next jobs_get signs another), for a local folder the
 * absolute file path (over stdio; over HTTP a remote caller is only told the copy is on the server).
 * Only the job's own keys are signed, only when they lie under its principal's prefix, and only when the
 * copy is in this server's store (a job kept under another bucket or folder gets a note instead); callers
 * have already checked that the job is the caller's (the ledger answers NOT_FOUND for another principal's
 * job). Making links never throws: an output whose link cannot be made here gets a note.
 */
import type { JobOutput, JobRecord } from '../store/store.js';
import type { OutputStore } from './store.js';

/** Each kept output of a job and its link. */
export interface StoredLinks {
  urls: ReadonlyMap<JobOutput, string>;
  /** The links are URLs a client can fetch (s3): resource_links point at them. A local path is not one. */
  fetchable: boolean;
  /** Kept outputs without a link here, and why (kept in another store; kept on the server's disk). */
  notes?: ReadonlyMap<JobOutput, string>;
  /** Paths on the server's disk are not shown for these outputs (a remote caller over HTTP). */
  hidePaths?: ReadonlySet<JobOutput>;
}

/** Makes the links of a job: `(job) => links` (empty when nothing is kept). */
export type LinkMaker = (job: JobRecord) => Promise<StoredLinks>;

/** `remote`: the callers are HTTP clients, who must not be shown paths on the server's disk. */
export function linkMaker(outputs: OutputStore, ttlSeconds: number, remote = false): LinkMaker {
  const elsewhere = (storedIn: string | undefined): string =>
    storedIn === undefined
      ? "kept in an output store that is not this server's"
      : storedIn.startsWith('local:')
        ? `kept in ${remote ? 'a local output folder' : storedIn.slice('local:'.length)}, not this server's output store`
        : `kept in ${storedIn}, not this server's output store`;
  return async (job) => {
    const urls = new Map<JobOutput, string>();
    const notes = new Map<JobOutput, string>();
    const hidePaths = new Set<JobOutput>();
    for (const o of job.outputs) {
      const key = o.storedKey;
      if (!key) continue;
      try {
        const here =
          o.storedIn !== undefined
            ? o.storedIn === outputs.identity && outputs.owns(job.principal, key)
            : outputs.owns(job.principal, key) && (await outputs.holds(job.principal, key));
        if (!here) notes.set(o, elsewhere(o.storedIn));
        else if (outputs.kind === 'local' && remote) {
          notes.set(o, 'kept on the server, in its output folder');
          hidePaths.add(o);
        } else urls.set(o, await outputs.link(key, ttlSeconds));
      } catch {
        notes.set(o, 'kept, but no link to it can be made here');
      }
      if (remote && o.path && (outputs.kind === 'local' || o.storedIn?.startsWith('local:'))) hidePaths.add(o);
    }
    return { urls, fetchable: outputs.kind === 's3', notes, hidePaths };
  };
}

export const noLinks: LinkMaker = () => Promise.resolve({ urls: new Map(), fetchable: false });
