/**
 * jobs_track: adopt a job created elsewhere by the provider's own id, without charging anything, so it can
 * be waited on, downloaded and listed like any other. Given the reservation of a call that ended with
 * OUTCOME_UNKNOWN, it settles it: uncertain -> committed (and -> refunded if the job failed).
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
        const job = await d.ledger.adopt(
          { ...base, id: newJobId(d.now()), argsHash: ADOPTED, price: null },
          ctx.signal,
        );
        return jobResult(job, `Tracking ${tool.name} job ${providerJobId} as ${job.id}; nothing was charged.`, {
          adopted: true,
        });
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
      if (await d.store.getJob(r.id))
        throw new MediagenError('BAD_ARGUMENTS', `Reservation ${r.id} already has its job (${r.id}); see jobs_get.`);
      const job = await d.ledger.adopt({ ...base, id: r.id, argsHash: r.argsHash, price: r.credits }, ctx.signal, () =>
        d.budget.commit(r.id, r.id),
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
