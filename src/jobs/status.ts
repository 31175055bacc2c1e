/**
 * Provider status words -> pending | running | succeeded | failed | cancelled. The catalogue's words
 * for the job come first (case-insensitive), then a shared vocabulary covering every provider we know.
 * An unknown word returns undefined: the caller keeps it, logs it, and treats the job as running.
 */
import type { JobSpec } from '../catalogue/format.js';
import type { JobStatus } from '../store/store.js';

/** Every word in ../shared/providers (Media.io, Phaya's families, ph0ny) plus common synonyms. */
export const SHARED_WORDS: Readonly<Record<JobStatus, readonly string[]>> = {
  pending: ['pending', 'queued', 'waiting', 'submitted', 'created', 'starting'],
  running: ['processing', 'running', 'in_progress', 'in-progress', 'generating', 'started'],
  succeeded: ['completed', 'succeeded', 'success', 'done', 'finished'],
  failed: ['failed', 'failure', 'error', 'timeout', 'timed_out', 'expired', 'rejected'],
  cancelled: ['cancelled', 'canceled', 'aborted'],
};

const ORDER: readonly JobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];

function find(words: Readonly<Record<JobStatus, readonly string[]>>, w: string): JobStatus | undefined {
  return ORDER.find((s) => words[s].some((x) => x.toLowerCase() === w));
}

export function normaliseStatus(word: unknown, spec?: Pick<JobSpec, 'words'>): JobStatus | undefined {
  if (typeof word !== 'string' && typeof word !== 'number') return undefined;
  const w = String(word).trim().toLowerCase();
  return (spec && find(spec.words, w)) ?? find(SHARED_WORDS, w);
}

export function isFinal(s: JobStatus): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'cancelled';
}
