/**
 * One leased job of the background worker (see worker.ts): its status poll and what follows, its
 * counts and log lines, and the lease given back with the next poll time. Final jobs still due (outputs
 * to keep, a refund to make) are worker-keep.ts's.
 */
import { MediagenError } from '../errors.js';
import type { JobRecord } from '../store/store.js';
import { giveUpAt, nextPollAt, pastLimit, pollTiming, type PollTiming } from './schedule.js';
import { isFinal } from './status.js';
import { keep, refundDue } from './worker-keep.js';
import { codeOf, giveBack, leaseDeadline, type Poller, type RunContext } from './worker-run.js';

export type { Poller, RunContext, WorkerStats } from './worker-run.js';
export { codeOf, errorText, giveBack } from './worker-run.js';
export { KEEP_HORIZON_MS } from './worker-keep.js';

/** A job this process cannot poll is not leased by it again for this long (others may poll it meanwhile). */
export const UNPOLLABLE_MS = 15 * 60_000;
/** A poll that waited for the shared rate limit until its lease ran short is given back this much later. */
export const RATE_WAIT_MS = 1_000;
/** The time limit assumed for a job whose operation this process does not know. */
const DEFAULT_TIMEOUT_MS = 60 * 60_000;

/** The timing assumed for a job whose operation this process does not know. */
const NO_SPEC: PollTiming = { pollMs: UNPOLLABLE_MS, timeoutMs: DEFAULT_TIMEOUT_MS, slowMs: UNPOLLABLE_MS };
const CANNOT_POLL = new Set(['NOT_CONFIGURED', 'NOT_SUPPORTED']);

/** Poll (or keep the outputs of, or refund) one leased job, and give the lease back with its next poll time. */
export async function runLeased(job: JobRecord, poller: Poller | undefined, c: RunContext): Promise<void> {
  if (!poller) return unpollable(job, undefined, c);
  if (poller.ledger.refundDue(job)) return refundDue(job, poller, c);
  if (isFinal(job.status)) return keep(job, poller, job.pollErrors ?? 0, c);
  // Created with a per-request key (--byok; a webhook hint made it due): no key here to poll it with.
  if (job.byok) return c.release(job, null, job.pollErrors ?? 0);
  let timing: PollTiming;
  try {
    timing = pollTiming(poller.ledger.spec(job).spec, c.intervalMs);
  } catch {
    return unpollable(job, undefined, c);
  }
  const deadline = leaseDeadline(c);
  let polled: JobRecord;
  try {
    polled = await poller.ledger.poll(job.id, deadline.signal, undefined, { background: true });
  } catch (err) {
    if (c.stop.aborted) return giveBack(job, c);
    // The poll recorded "failed" and then its refund threw: the job is final and due for the refund, which
    // is retried as such (never scheduled as a status poll, never given up with the 48 h rule).
    const recorded = await c.store.getJob(job.id).catch(() => undefined);
    if (recorded && poller.ledger.refundDue(recorded)) return refundDue(recorded, poller, c);
    const now = c.now();
    if (err instanceof MediagenError && CANNOT_POLL.has(err.code)) return unpollable(job, timing, c);
    // Waited for the shared rate limit (foreground calls first) and nothing was sent: not an error.
    if (deadline.signal.aborted && err instanceof MediagenError && err.details.sent === false)
      return c.release(job, now + RATE_WAIT_MS, job.pollErrors ?? 0);
    const errors = (job.pollErrors ?? 0) + 1;
    c.counts.errors++;
    c.logger.warn(`worker: status poll of job ${job.id} failed`, { job: job.id, code: codeOf(err), errors });
    return schedule(job, timing, now, errors, c);
  } finally {
    deadline.done();
  }
  const now = c.now();
  // Skipped by the ledger (a caller polled it just now): the errors in a row stand.
  const skipped = polled.polls === job.polls;
  if (!skipped) c.counts.polls++;
  if (!isFinal(polled.status)) {
    // Once, on the poll whose recorded time is the first past the limit (the ledger's clock, not ours).
    if (!skipped && pastLimit(job, timing, polled.updatedAt) && !pastLimit(job, timing, job.updatedAt)) {
      c.counts.timedOut++;
      c.logger.info(
        `job ${job.id}: past its time limit; polled every ${Math.round(timing.slowMs / 1000)} s from now, not refunded`,
        { job: job.id, tool: job.tool },
      );
    }
    return schedule(job, timing, now, skipped ? (job.pollErrors ?? 0) : 0, c);
  }
  // Recorded failed (by this poll or, meanwhile, by another process) with its refund not made yet.
  if (poller.ledger.refundDue(polled)) return refundDue(polled, poller, c);
  if (!isFinal(job.status)) await settled(job, polled, c);
  if (polled.status === 'succeeded' && polled.nextPollAt != null) return keep(polled, poller, 0, c);
  return c.release(job, null, 0);
}

/**
 * A job this process cannot poll: given back due as it was (others may poll it) and not leased here for
 * UNPOLLABLE_MS; once 48 h past its time limit it is given up, as a poll would.
 */
function unpollable(job: JobRecord, timing: PollTiming | undefined, c: RunContext): Promise<void> {
  const now = c.now();
  const t = timing ?? NO_SPEC;
  if (!isFinal(job.status) && now >= giveUpAt(job, t)) return schedule(job, t, now, job.pollErrors ?? 0, c);
  c.skip(job);
  return giveBack(job, c);
}

/** Counts of a job the worker's poll found final (the ledger logged the transition). */
async function settled(before: JobRecord, job: JobRecord, c: RunContext): Promise<void> {
  if (job.status === 'succeeded') c.counts.succeeded++;
  if (job.status !== 'failed') return;
  c.counts.failed++;
  const reservation = await c.store.reservationOfJob(job.id).catch(() => undefined);
  if (reservation?.state !== 'refunded') return;
  c.counts.refunded++;
  c.counts.refundedCredits += reservation.credits;
  c.logger.info(`job ${job.id}: failed at the provider; ${reservation.credits} credits refunded`, {
    job: job.id,
    tool: before.tool,
    reservation: reservation.id,
  });
}

function schedule(job: JobRecord, timing: PollTiming, now: number, errors: number, c: RunContext): Promise<void> {
  const next = nextPollAt(job, timing, now, errors);
  if (next === null) {
    c.counts.gaveUp++;
    c.logger.info(
      `job ${job.id}: gave up; the provider had not decided 48 h past its time limit (nothing refunded on our clock)`,
      { job: job.id, tool: job.tool },
    );
  }
  return c.release(job, next, errors);
}
