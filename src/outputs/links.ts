/**
 * Links to a job's kept outputs, made fresh on every read: for s3 a presigned GET signed now (so an
 * expired link is never the only way back: the next jobs_get signs another), for a local folder the
 * absolute file path. Only the job's own keys are signed, and only when they lie under its principal's
 * prefix; callers have already checked that the job is the caller's (the ledger answers NOT_FOUND for
 * another principal's job).
 */
import type { JobOutput, JobRecord } from '../store/store.js';
import type { OutputStore } from './store.js';

/** Each kept output of a job and its link. */
export interface StoredLinks {
  urls: ReadonlyMap<JobOutput, string>;
  /** The links are URLs a client can fetch (s3): resource_links point at them. A local path is not one. */
  fetchable: boolean;
}

/** Makes the links of a job: `(job) => links` (empty when nothing is kept). */
export type LinkMaker = (job: JobRecord) => Promise<StoredLinks>;

export function linkMaker(outputs: OutputStore, ttlSeconds: number): LinkMaker {
  return async (job) => {
    const urls = new Map<JobOutput, string>();
    for (const o of job.outputs) {
      if (!o.storedKey || !outputs.owns(job.principal, o.storedKey)) continue;
      urls.set(o, await outputs.link(o.storedKey, ttlSeconds));
    }
    return { urls, fetchable: outputs.kind === 's3' };
  };
}

export const noLinks: LinkMaker = () => Promise.resolve({ urls: new Map(), fetchable: false });
