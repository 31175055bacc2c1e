/**
 * mediagen_approve (APPROVE_TOOL): the Approve / Decline buttons of the approval view. App-only
 * (`_meta.ui.visibility: ["app"]`): hosts neither list it to the model nor let the model call it, so only
 * the person at the view decides. The server cannot tell who sent a tools/call; that host rule is the
 * guarantee (DESIGN §12).
 *
 * Approve takes the pending approval (once, across processes and replicas) and runs the call it is bound
 * to exactly once, on the paid tool's own money path with consent given: idempotency, caps, reservation,
 * outcome classes, ledger; refused before anything was sent, the approval is given back. Decline closes
 * it: nothing is sent. Unknown, used, declined, expired or another principal's: refused, nothing sent.
 */
import { z } from 'zod';
import { MediagenError } from '../errors.js';
import type { ConsentGate } from '../guard/consent.js';
import { APPROVE_TOOL } from '../views/uris.js';
import type { ToolSpec } from './build.js';
import { defineTool } from './define.js';
import type { ServerTool, ToolHandler } from './handler.js';

export interface ApproveDeps {
  consent: ConsentGate;
  handler: ToolHandler;
  /** The paid tools this server offers, by name. */
  tools: ReadonlyMap<string, ToolSpec>;
}

export function approveTool(d: ApproveDeps): ServerTool {
  return defineTool({
    name: APPROVE_TOOL,
    title: 'Approve or decline a paid call',
    description: "The approval view's buttons: approve (runs the call once) or decline a pending approval. App-only.",
    shape: {
      approval_id: z.string().min(1).max(200),
      decision: z.enum(['approve', 'decline']),
    },
    readOnly: false,
    idempotent: false,
    meta: { ui: { visibility: ['app'] } },
    run: async (a, ctx) => {
      if (a.decision === 'decline') {
        await d.consent.decline(a.approval_id, ctx.principal);
        return {
          content: [{ type: 'text', text: 'Declined. Nothing was sent or charged.' }],
          structuredContent: { decision: 'declined' },
        };
      }
      const { approval, consent } = await d.consent.take(a.approval_id, ctx.principal);
      const tool = d.tools.get(approval.tool);
      if (!tool?.paid) {
        await consent.giveBack();
        throw new MediagenError(
          'NOT_FOUND',
          `${approval.tool} is not offered by this server now. Nothing was sent or charged.`,
          { tool: approval.tool },
        );
      }
      // The approved call runs as the session that asked (its session cap counts it), for its principal.
      return d.handler.approved(
        tool,
        approval.args,
        {
          argsHash: approval.argsHash,
          idempotencyKey: approval.idempotencyKey,
          ...(approval.quotedCredits !== undefined ? { approvedCredits: approval.quotedCredits } : {}),
        },
        consent,
        { ...ctx, callerId: approval.callerId },
      );
    },
  });
}
