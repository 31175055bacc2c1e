/**
 * media_thumbnail: one output's thumbnail (a video: its cover) as an `image` block, for the views, which
 * call it through the host for thumbnails they cannot load by URL. App-only (`visibility: ["app"]`: hosts
 * do not list it to the model). Reads the ledger only: no provider status poll. Another principal's job
 * is NOT_FOUND. With `--previews off` it answers a note and fetches nothing.
 */
import { z } from 'zod';
import type { JobLedger } from '../jobs/ledger.js';
import type { Previewer } from '../previews/previews.js';
import { THUMBNAIL_TOOL } from '../views/uris.js';
import { defineTool } from './define.js';
import type { ServerTool } from './handler.js';

export function thumbnailTool(d: {
  ledger: JobLedger;
  previewer: Previewer;
  /** `--previews off` (the server's or the principal's): refuse, fetching and decoding nothing. */
  off?: boolean;
  /** The time an answer waits for its thumbnail, at most (forJob's deadline). */
  budgetMs: number;
}): ServerTool {
  return defineTool({
    name: THUMBNAIL_TOOL,
    title: 'Output thumbnail',
    description: "One output's thumbnail (a video's cover) as an image, for the job views.",
    shape: {
      job_id: z.string().min(1).max(100),
      output: z.number().int().min(1).max(1000).describe('1-based, as the job lists its outputs.'),
    },
    readOnly: true,
    idempotent: true,
    meta: { ui: { visibility: ['app'] } },
    run: async (a, ctx) => {
      const job = await d.ledger.get(a.job_id, ctx.principal);
      if (d.off)
        return {
          content: [{ type: 'text', text: 'no preview: previews are off on this server / for this principal' }],
        };
      if (job.status !== 'succeeded')
        return { content: [{ type: 'text', text: `no preview: job ${job.id} is ${job.status}` }] };
      const p = await d.previewer.thumbnailOf(job, a.output, d.budgetMs);
      if (!p.block || p.block.type !== 'image')
        return {
          content: [{ type: 'text', text: `no preview: ${(p.note ?? 'none').replace(/^no preview:? ?/, '')}` }],
        };
      return {
        content: [{ type: 'image', data: p.block.data, mimeType: p.block.mimeType }],
        structuredContent: { job_id: job.id, output: a.output, ...(p.coverOf ? { cover_output: p.coverOf } : {}) },
      };
    },
  });
}
