/**
 * What the background worker does for a final job that is still due (see worker-job.ts): keep a succeeded
 * job's outputs in the output store, or make a failed job's refund that did not happen. Both hold their
 * lease for as long as they take (renewed), and are retried with backoff (up to MAX_BACKOFF_MS).
 * Keeping is given up KEEP_HORIZON_MS after the job finished: each output not kept then says so
 * (storeError "not kept: …") and a line is logged. A refund is never given up.
 */
import { MediagenError } from '../errors.js';
import type { JobRecord } from '../store/store.js';
import { MAX_BACKOFF_MS } from './schedule.js';
import { codeOf, errorText, giveBack, leaseHold, type Poller, type RunContext } from './worker-run.js';

/** How long after a job finished keeping its outputs is retried. */
export const KEEP_HORIZON_MS = 24 * 3_600_000;

function retryDelay(c: RunContext, errors: number): number {
  return Math.min(MAX_BACKOFF_MS, (c.intervalMs ?? 5_000) * 2 ** Math.min(errors, 30));
}

/** A failed job whose refund is still due: refund it (idempotent), retried with backoff while it fails. */
export async function refundDue(job: JobRecord, poller: Poller, c: RunContext): Promise<void> {
  try {
    const done = await poller.ledger.refundFailed(job);
    const reservation = await c.store.reservationOfJob(job.id).catch(() => undefined);
    c.counts.failed++;
    if (reservation?.state === 'refunded') {
      c.counts.refunded++;
      c.counts.refundedCredits += reservation.credits;
      c.logger.info(`job ${job.id}: failed at the provider; ${reservation.credits} credits refunded`, {
        job: job.id,
        tool: done.tool,
        reservation: reservation.id,
      });
    }
    return c.release(job, null, 0);
  } catch (err) {
    if (c.stop.aborted) return giveBack(job, c);
    const errors = (job.pollErrors ?? 0) + 1;
    c.counts.errors++;
    c.logger.warn(`worker: the refund of failed job ${job.id} failed; will retry`, {
      job: job.id,
      code: codeOf(err),
      errors,
    });
    return c.release(job, c.now() + retryDelay(c, errors), errors);
  }
}

/** Keep a succeeded job's outputs in the output store. */
export async function keep(job: JobRecord, poller: Poller, failedBefore: number, c: RunContext): Promise<void> {
  if (job.status !== 'succeeded' || !poller.keepOutputs) return c.release(job, null, 0);
  const hold = leaseHold(job, c);
  try {
    await poller.keepOutputs(job, hold.signal);
    c.counts.kept++;
    c.logger.info(`job ${job.id}: outputs kept`, { job: job.id, tool: job.tool });
    return await c.release(job, null, 0);
  } catch (err) {
    if (c.stop.aborted) return giveBack(job, c);
    // The lease was lost (another worker holds the job now): not this keep's error.
    if (hold.lost()) return c.release(job, c.now(), failedBefore);
    const errors = failedBefore + 1;
    c.counts.errors++;
    const now = c.now();
    const next = now + retryDelay(c, errors);
    if (next > (job.finishedAt ?? job.updatedAt) + KEEP_HORIZON_MS) return giveUp(job, err, errors, c);
    c.logger.warn(`worker: keeping the outputs of job ${job.id} failed; will retry`, {
      job: job.id,
      code: codeOf(err),
      errors,
    });
    return c.release(job, next, errors);
  } finally {
    hold.done();
  }
}

/** Stop keeping: every output not kept records why; logged. */
async function giveUp(job: JobRecord, err: unknown, errors: number, c: RunContext): Promise<void> {
  const reason = `not kept: ${err instanceof MediagenError ? err.message : errorText(err)}`.slice(0, 300);
  c.logger.warn(`job ${job.id}: gave up keeping its outputs after ${errors} attempts`, {
    job: job.id,
    code: codeOf(err),
  });
  try {
    const fresh = (await c.store.getJob(job.id)) ?? job;
    const outputs = fresh.outputs.map((o) => (o.storedKey ? o : { ...o, storeError: reason }));
    await c.store.updateJob(job.id, { outputs }, c.now());
  } catch (e) {
    c.logger.warn(`worker: could not record that the outputs of job ${job.id} were not kept`, {
      job: job.id,
      error: errorText(e),
    });
  }
  return c.release(job, null, errors);
}
