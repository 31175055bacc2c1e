/**
 * What one status answer of the provider changes in a job's ledger record: its normalised status,
 * progress, outputs (once succeeded), error (once failed or cancelled) and when the background worker
 * polls it next (schedule.ts; once final: now when its outputs are still to be kept, else never).
 */
import type { JobSpec } from '../catalogue/format.js';
import type { Logger } from '../log.js';
import { getPath } from '../providers/envelope.js';
import type { JobPatch, JobRecord, JobStatus } from '../store/store.js';
import { succeededOutputs } from './results.js';
import { nextPollAt, pollTiming } from './schedule.js';
import { isFinal, normaliseStatus } from './status.js';

export interface PatchSettings {
  logger: Logger;
  keepsOutputs?: boolean;
  intervalMs?: number;
}

export function statusPatch(
  job: JobRecord,
  data: unknown,
  spec: JobSpec,
  now: number,
  o: PatchSettings,
): JobPatch & { status: JobStatus } {
  const word = getPath(data, spec.status.field);
  const known = normaliseStatus(word, spec);
  if (!known)
    o.logger.warn('unknown provider status word; treating the job as running', { tool: job.tool, word: String(word) });
  const status = known ?? 'running';
  const progressRaw = spec.progressField ? (Number(getPath(data, spec.progressField)) / spec.progressScale) * 100 : NaN;
  const errorRaw = spec.errorField ? getPath(data, spec.errorField) : undefined;
  return {
    status,
    providerStatus: word === undefined ? null : String(word),
    progress: Number.isFinite(progressRaw)
      ? Math.max(0, Math.min(100, progressRaw))
      : status === 'succeeded'
        ? 100
        : job.progress,
    outputs: status === 'succeeded' ? succeededOutputs(data, spec) : job.outputs,
    error: status === 'failed' || status === 'cancelled' ? describeError(errorRaw, word) : null,
    polls: job.polls + 1,
    finishedAt: isFinal(status) ? now : null,
    nextPollAt: isFinal(status)
      ? status === 'succeeded' && o.keepsOutputs
        ? now
        : null
      : job.byok
        ? null // the worker has no key for it: only a request that sends one polls it
        : nextPollAt(job, pollTiming(spec, o.intervalMs), now),
  };
}

function describeError(raw: unknown, word: unknown): string {
  if (typeof raw === 'string' && raw && raw !== 'success') return raw;
  if (raw && typeof raw === 'object') return JSON.stringify(raw).slice(0, 300);
  return `provider status ${String(word)}`;
}
