/**
 * After the provider accepted a paid call (it answered; for a job, with a job id): the writes that record
 * it (the job, the reservation committed, the idempotency key settled), retried with backoff within the
 * request deadline. Never "nothing was written": when the store stays unavailable, or holds another job
 * where this one belongs, the call is kept in the journal (replayed when the store is back), logged at
 * error level, and a job is answered OUTCOME_UNKNOWN with its provider job id and the jobs_track call
 * that settles it.
 */
import { AcceptedConflict, writeAccepted, type AcceptedEntry, type AcceptedJournal } from '../jobs/journal.js';
import type { Logger } from '../log.js';
import { bounded, LATE } from '../shutdown.js';
import type { JobRecord, Store } from '../store/store.js';
import { unrecorded } from './paid-outcome.js';

export interface AcceptDeps {
  store: Store;
  journal: AcceptedJournal;
  logger: Logger;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Tried at least this often even when the create itself used up the deadline; never more than the max. */
const MIN_ATTEMPTS = 3;
const MAX_ATTEMPTS = 40;
/** The least time one attempt gets, even past the deadline. */
const ATTEMPT_MS = 1_000;

type Written = { ok: true; job?: JobRecord } | { ok: false; error: unknown };

/** The writes, until they pass or `deadline` (epoch ms) has passed. */
async function retried(d: AcceptDeps, e: AcceptedEntry, deadline: number): Promise<Written> {
  let wait = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      // Each attempt is bounded too: a store that hangs (no answer, connection kept) must not outlast the
      // deadline, or a stopping process would exit before the call reaches the journal.
      const written = await bounded(writeAccepted(d.store, e, d.now()), Math.max(deadline - d.now(), ATTEMPT_MS));
      if (written === LATE) throw new Error(`the store did not answer within the request deadline`);
      if (written instanceof Error) throw written;
      return { ok: true, job: written };
    } catch (error) {
      if (error instanceof AcceptedConflict) return { ok: false, error };
      if (attempt === 1)
        d.logger.warn('the store did not take the record of an accepted call; retrying until the request deadline', {
          tool: e.tool,
          reservation: e.reservation,
          ...(e.providerJobId ? { providerJobId: e.providerJobId } : {}),
          error: (error instanceof Error ? error.message : String(error)).slice(0, 300),
        });
      const left = deadline - d.now();
      if (attempt >= MAX_ATTEMPTS || (attempt >= MIN_ATTEMPTS && left <= 0)) return { ok: false, error };
      await d.sleep(left > 0 ? Math.min(wait, left) : wait);
      wait = Math.min(wait * 2, 1_000);
    }
  }
}

/** What the caller is told (no store internals: addresses stay in the log) and what the log says. */
function causeOf(err: unknown): { cause: string; detail: string } {
  const detail = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  if (err instanceof AcceptedConflict) return { cause: `the job ledger holds another job where it belongs`, detail };
  return { cause: 'the store could not record it', detail };
}

/** Keep the call in the journal and say so at error level (names and ids only: no arguments, no secrets). */
export function keepAccepted(
  d: Pick<AcceptDeps, 'journal' | 'logger'>,
  e: AcceptedEntry,
  cause: string,
  detail?: string,
): boolean {
  let journaled = true;
  try {
    d.journal.append(e);
  } catch (err) {
    journaled = false;
    d.logger.error('the accepted-job journal could not be written', { journal: d.journal.file, error: String(err) });
  }
  d.logger.error(
    `${e.provider} accepted a paid call but it is not in the store; ${journaled ? 'kept in the journal, recorded when the store is back' : 'NOT journaled'}`,
    {
      tool: e.tool,
      provider: e.provider,
      reservation: e.reservation,
      ...(e.providerJobId ? { providerJobId: e.providerJobId } : {}),
      journal: d.journal.file,
      cause,
      ...(detail ? { error: detail } : {}),
    },
  );
  return journaled;
}

export interface AcceptedCall {
  entry: AcceptedEntry & { job: JobRecord; providerJobId: string };
  credits: number | null;
  /** As the caller gave it (not scoped). */
  idempotencyKey?: string;
  /** Epoch ms: the request deadline (the reservation's start + the budget's stale time). */
  deadline: number;
}

/** Record an accepted job, or answer OUTCOME_UNKNOWN with its provider job id once it is journaled. */
export async function recordAccepted(d: AcceptDeps, a: AcceptedCall): Promise<JobRecord> {
  const r = await retried(d, a.entry, a.deadline);
  if (r.ok && r.job) return r.job;
  const { cause, detail } = r.ok ? { cause: 'the job was not recorded', detail: undefined } : causeOf(r.error);
  const e = a.entry;
  if (!r.ok && r.error instanceof AcceptedConflict) await markUnknown(d, e);
  const journaled = keepAccepted(d, e, cause, detail);
  throw unrecorded({
    provider: e.provider,
    tool: e.tool,
    reservation: e.reservation,
    providerJobId: e.providerJobId,
    credits: a.credits,
    idempotencyKey: a.idempotencyKey,
    cause,
    journaled,
  });
}

/**
 * The store answers but holds another job where this one belongs: the reservation is `uncertain` and the
 * key `unknown` (DESIGN §5.8) until jobs_track or an operator settles it; best effort.
 */
async function markUnknown(d: AcceptDeps, e: AcceptedEntry): Promise<void> {
  try {
    await d.store.markUncertain(e.reservation, d.now());
    if (e.idempotencyKey) await d.store.markIdempotencyUnknown(e.idempotencyKey, e.reservation);
  } catch (err) {
    d.logger.warn('could not mark a conflicting accepted call uncertain', {
      reservation: e.reservation,
      error: (err instanceof Error ? err.message : String(err)).slice(0, 300),
    });
  }
}

/** An answer the provider gave (and charged): the caller gets it whatever the store does. */
export async function settleAnswer(d: AcceptDeps, e: AcceptedEntry, deadline: number): Promise<void> {
  const r = await retried(d, e, deadline);
  if (!r.ok) {
    const { cause, detail } = causeOf(r.error);
    keepAccepted(d, e, cause, detail);
  }
}
