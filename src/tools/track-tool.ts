/**
 * jobs_track: adopt a job created elsewhere by the provider's own id, without charging anything, so it can
 * be waited on, downloaded and listed like any other. Given the reservation of a call that ended with
 * OUTCOME_UNKNOWN, it settles it: uncertain -> committed (and -> refunded if the job failed), and that
 * call's idempotency key then answers with the job. A provider job id already in the ledger is its
 * principal's: the owner gets that job again, anyone else NOT_FOUND. A reservation still in flight is
 * refused (IN_PROGRESS).
 */
import { z } from 'zod';
import { MediagenError } from '../errors.js';
import type { Budget } from '../guard/budget.js';
import { newJobId, type JobLedger, type JobTool } from '../jobs/ledger.js';
import type { Store } from '../store/store.js';
import { defineTool } from './define.js';
import type { ServerTool } from './handler.js';
import { jobResult } from './job-view.js';
import { validProviderJobId } from '../providers/envelope.js';

export interface TrackToolDeps {
  ledger: JobLedger;
  store: Store;
  budget: Budget;
  /** Every catalogue tool (filtered out or not), by name. */
  tools: ReadonlyMap<string, JobTool>;
  now: () => number;
}

/** argsHash of an adopted job: its arguments were not seen by this server. */
export const ADOPTED = 'adopted';

export function trackTool(d: TrackToolDeps): ServerTool {
  return defineTool({
    name: 'jobs_track',
    title: 'Track a job by its provider id',
    description:
      'Adopt a job created elsewhere (or after OUTCOME_UNKNOWN) by the provider job id; charges nothing. With reservation_id, settles that uncertain reservation.',
    shape: {
      tool: z.string().min(1).max(100).describe('The tool that creates such jobs, e.g. phaya_seedance.'),
      provider_job_id: z.string().min(1).max(200).describe("The provider's own job id."),
      reservation_id: z
        .string()
        .min(1)
        .max(100)
        .optional()
        .describe('From an OUTCOME_UNKNOWN answer: the reservation this job settles.'),
    },
    readOnly: false,
    idempotent: false,
    run: async (a, ctx) => {
      const tool = d.tools.get(a.tool);
      if (!tool) throw new MediagenError('BAD_ARGUMENTS', `jobs_track: no tool ${JSON.stringify(a.tool)}.`);
      if (!tool.op.job)
        throw new MediagenError('BAD_ARGUMENTS', `jobs_track: ${tool.name} answers at once and creates no job.`);
      const providerJobId = validProviderJobId(a.provider_job_id);
      if (!providerJobId)
        throw new MediagenError('BAD_ARGUMENTS', `jobs_track: ${JSON.stringify(a.provider_job_id)} is not a job id.`);
      const base = { tool, providerJobId, args: {}, callerId: ctx.callerId, principal: ctx.principal };
      if (!a.reservation_id) {
        const { job, existing } = await d.ledger.adopt(
          { ...base, id: newJobId(d.now()), argsHash: ADOPTED, price: null },
          ctx.signal,
        );
        const said = existing
          ? `${tool.name} job ${providerJobId} is already tracked as ${job.id}; nothing was recorded or charged.`
          : `Tracking ${tool.name} job ${providerJobId} as ${job.id}; nothing was charged.`;
        return jobResult(job, said, { adopted: true, ...(existing ? { already_tracked: true } : {}) });
      }
      const r = await d.store.getReservation(a.reservation_id);
      // Another principal's reservation is NOT_FOUND, like another principal's job.
      if (!r || r.principal !== ctx.principal)
        throw new MediagenError(
          'NOT_FOUND',
          `No reservation ${JSON.stringify(a.reservation_id)}. spend_report lists them.`,
        );
      if (r.tool !== tool.name)
        throw new MediagenError('BAD_ARGUMENTS', `Reservation ${r.id} is for ${r.tool}, not ${tool.name}.`);
      if (r.state !== 'uncertain' && r.state !== 'reserved')
        throw new MediagenError('BAD_ARGUMENTS', `Reservation ${r.id} is already ${r.state}; nothing to settle.`, {
          state: r.state,
        });
      // A 'reserved' reservation younger than the request deadline is a create still in flight: it settles
      // itself when the provider answers. Only a stale one (its process died) may be settled here.
      if (r.state === 'reserved' && d.now() - r.createdAt < d.budget.staleMs)
        throw new MediagenError(
          'IN_PROGRESS',
          `Reservation ${r.id} belongs to a call still in flight (started ${new Date(r.createdAt).toISOString()}); it settles itself when ${tool.provider} answers. Nothing was sent or settled.`,
          {
            state: r.state,
            hint: `spend_report shows it settled in a few seconds; only if that call ends OUTCOME_UNKNOWN does jobs_track settle it.`,
          },
        );
      if (await d.store.getJob(r.id))
        throw new MediagenError('BAD_ARGUMENTS', `Reservation ${r.id} already has its job (${r.id}); see jobs_get.`);
      const settleTo = async (jobId: string): Promise<void> => {
        await d.budget.commit(r.id, jobId);
        // The idempotency key of that call now answers with this job, not OUTCOME_UNKNOWN.
        await d.store.settleIdempotencyByReservation(r.id, jobId);
      };
      const known = await d.ledger.tracked(tool, providerJobId, ctx.principal);
      // Already adopted without a reservation (jobs_track first, then with reservation_id): no call paid for
      // that row, so this reservation is its payment.
      if (known && known.argsHash === ADOPTED && !(await d.store.reservationOfJob(known.id))) {
        await settleTo(known.id);
        if (known.status === 'failed') await d.budget.refund(r.id);
        const state = known.status === 'failed' ? 'refunded' : 'committed';
        return jobResult(
          known,
          `${tool.name} job ${providerJobId} was already tracked as ${known.id}; reservation ${r.id} is now ${state}.`,
          { adopted: true, reservation: { id: r.id, state, credits: r.credits } },
        );
      }
      const { job, existing } = known
        ? { job: known, existing: true }
        : await d.ledger.adopt({ ...base, id: r.id, argsHash: r.argsHash, price: r.credits }, ctx.signal, () =>
            settleTo(r.id),
          );
      if (existing)
        throw new MediagenError(
          'BAD_ARGUMENTS',
          `${tool.name} job ${providerJobId} is already tracked as ${job.id}, so it is not the job of reservation ${r.id}. Nothing was settled.`,
          { job_id: job.id, state: r.state },
        );
      const settled = job.status === 'failed' ? 'refunded (the job failed)' : 'committed';
      return jobResult(
        job,
        `Tracking ${tool.name} job ${providerJobId} as ${job.id}; reservation ${r.id} is now ${settled}.`,
        {
          adopted: true,
          reservation: { id: r.id, state: job.status === 'failed' ? 'refunded' : 'committed', credits: r.credits },
        },
      );
    },
  });
}
