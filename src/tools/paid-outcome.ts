/**
 * What a paid request's failure means for the money (DESIGN §5.7), as payments APIs classify it:
 * - refused: nothing was accepted, so the reservation is released and the idempotency key freed
 *   (a 4xx other than 408/409, a well-formed error envelope, or nothing sent at all);
 * - unknown: the provider may have accepted and charged (a 5xx, a timeout, a reset after the body
 *   was sent, a 2xx we cannot parse or without a job id, any abort of ours after the request left).
 * Also the registry of paid requests in flight, so a shutdown or a lost transport can settle them.
 */
import { MediagenError } from '../errors.js';
import type { AcceptedEntry } from '../jobs/journal.js';
import { requestKey } from '../request-keys.js';

export type Outcome = 'refused' | 'unknown';

export function outcomeOf(err: unknown): Outcome {
  if (!(err instanceof MediagenError)) return 'unknown';
  const d = err.details;
  if (d.sent === false) return 'refused';
  if (d.providerCode !== undefined) return 'refused';
  const status = d.httpStatus;
  if (typeof status === 'number') {
    if (status === 408 || status === 409) return 'unknown';
    return status >= 400 && status < 500 ? 'refused' : 'unknown';
  }
  // Raised before anything was sent (no key, bad arguments, rate limiter).
  return ['NOT_CONFIGURED', 'BAD_ARGUMENTS', 'RATE_LIMITED'].includes(err.code) ? 'refused' : 'unknown';
}

export interface UnknownContext {
  provider: string;
  tool: string;
  reservation: string;
  credits: number | null;
  idempotencyKey?: string;
  /** What happened, e.g. "HTTP 502", "no answer within 30000 ms", "the call was cancelled". */
  cause: string;
}

/** The call went with the request's own key (--byok): the job is in that account, and jobs_track needs it. */
function ownKeyHint(provider: string): string {
  return requestKey(provider) === undefined
    ? ''
    : ` It went with your own key: look in that ${provider} account, and send X-Mediagen-Key-${provider} again with jobs_track.`;
}

export function outcomeUnknown(c: UnknownContext): MediagenError {
  const keyed = c.idempotencyKey
    ? `Repeating the call with idempotency_key "${c.idempotencyKey}" will not send it again.`
    : 'Repeating the call without checking may pay twice; pass an idempotency_key next time.';
  return new MediagenError(
    'OUTCOME_UNKNOWN',
    `${c.tool}: the request reached ${c.provider} (or may have), but ${c.cause}, so whether ${c.provider} accepted and charged the job is unknown. ${c.credits === null ? 'Its reservation' : `Its ${c.credits} credits`} stay${c.credits === null ? 's' : ''} reserved as uncertain (reservation ${c.reservation}). ${keyed}`,
    {
      provider: c.provider,
      tool: c.tool,
      reservation: c.reservation,
      ...(c.idempotencyKey ? { idempotency_key: c.idempotencyKey } : {}),
      cause: c.cause,
      hint: `Check ${c.provider}'s dashboard or history for a job started at this time before trying again; if you find it, jobs_track {"tool": "${c.tool}", "provider_job_id": "<its id>", "reservation_id": "${c.reservation}"} settles the reservation and tracks the job.${ownKeyHint(c.provider)} spend_report lists the uncertain reservation.`,
    },
  );
}

/**
 * The provider accepted the job (we hold its id) but the store did not take the record in time: still
 * unknown to the ledger, never lost. Says where the job is and the exact jobs_track call that settles it.
 */
export function unrecorded(c: UnknownContext & { providerJobId: string; journaled: boolean }): MediagenError {
  const track = { tool: c.tool, provider_job_id: c.providerJobId, reservation_id: c.reservation };
  const keyed = c.idempotencyKey
    ? `Repeating the call with idempotency_key "${c.idempotencyKey}" will not send it again.`
    : 'Do not repeat the call: it would be a second job.';
  const kept = c.journaled
    ? "It is kept in this server's journal and recorded by itself once the store is back; or"
    : 'It could not be journaled either (see the server log);';
  return new MediagenError(
    'OUTCOME_UNKNOWN',
    `${c.tool}: ${c.provider} accepted the job (provider job id ${c.providerJobId}), but ${c.cause}, so it is not in the job ledger yet. ${kept} jobs_track ${JSON.stringify(track)} records it and settles the reservation. ${c.credits === null ? 'Its reservation stays' : `Its ${c.credits} credits stay`} reserved (reservation ${c.reservation}). ${keyed}`,
    {
      provider: c.provider,
      tool: c.tool,
      reservation: c.reservation,
      provider_job_id: c.providerJobId,
      journaled: c.journaled,
      ...(c.idempotencyKey ? { idempotency_key: c.idempotencyKey } : {}),
      cause: c.cause,
      settle: { tool: 'jobs_track', arguments: track },
      hint: `The job exists at ${c.provider}. jobs_track ${JSON.stringify(track)} records it (nothing is charged again); jobs_list shows it once recorded.`,
    },
  );
}

/** Describe a failure in a few words for an OUTCOME_UNKNOWN message. */
export function causeOf(err: unknown): string {
  if (err instanceof MediagenError) {
    if (err.details.cancelled) return 'the call was cancelled before the provider answered';
    if (err.code === 'PROVIDER_TIMEOUT') return 'it did not answer in time';
    const status = err.details.httpStatus;
    if (typeof status === 'number')
      return status < 300 ? `its answer (HTTP ${status}) could not be read` : `it answered HTTP ${status}`;
    return `the connection failed (${err.message})`;
  }
  return 'the request failed unexpectedly';
}

export interface InflightPaid {
  reservation: string;
  tool: string;
  provider: string;
  idempotencyKey?: string;
  /** Set once the provider accepted: what the store must learn (journaled if the process stops first). */
  accepted?: AcceptedEntry;
}

/** Paid requests that have been (or are being) sent and whose answer has not been settled yet. */
export class PaidInflight {
  private readonly calls = new Map<string, InflightPaid>();
  add(c: InflightPaid): void {
    this.calls.set(c.reservation, c);
  }
  private stopped = false;
  /**
   * The provider accepted the call: from now on it is never just "uncertain". False when shutdown has
   * already settled the calls in flight (the caller must journal it itself).
   */
  accept(reservation: string, entry: AcceptedEntry): boolean {
    const c = this.calls.get(reservation);
    if (c) c.accepted = entry;
    return c !== undefined && !this.stopped;
  }
  /** Shutdown settles the calls in flight: an acceptance after this is journaled by its caller. */
  stop(): void {
    this.stopped = true;
  }
  delete(reservation: string): void {
    this.calls.delete(reservation);
  }
  list(): InflightPaid[] {
    return [...this.calls.values()];
  }
}
