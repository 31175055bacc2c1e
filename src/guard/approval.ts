/**
 * App approvals (DESIGN §12): a pending approval in the store, the ApprovalView an MCP App view shows for
 * it (in a CONFIRMATION_REQUIRED result's `_meta`), and the refusals of an approval that cannot be decided.
 *
 * What this rests on: the server cannot tell who sent a tools/call. The Approve button calls an app-only
 * tool (visibility ["app"]) that hosts must neither list to the model nor let it call, so the guarantee is
 * the host's visibility rule, as a form elicitation's is the host's form.
 */
import { randomBytes } from 'node:crypto';
import { MediagenError } from '../errors.js';
import type { ApprovalRefusal, Store } from '../store/store.js';
import { APPROVAL_META, type ApprovalView } from '../views/uris.js';
import type { CapsLeft } from './budget.js';
import { canonicalJson, sha256 } from './canonical.js';

/** What a pending approval needs besides the consent request: the call itself and who made it. */
export interface AppContext {
  /** The provider arguments (validated, no guard fields) the approval will run. */
  args: Record<string, unknown>;
  principal: string;
  /** The session that asked: the approved call counts against its session cap. */
  callerId: string;
  idempotencyKey?: string;
  /** What is left of each cap, in words (see capsLeftText). */
  capsLeft: string[];
  /** The credits the call was quoted at when asked for (null: unknown): the price the person approves. */
  quotedCredits: number | null;
}

/** "session cap: 3 of 5 credits left", "day cap: 380 of 500 credits left"; empty when no cap is set. */
export function capsLeftText(left: CapsLeft, currency: string): string[] {
  const out: string[] = [];
  if (left.session) out.push(`session cap: ${left.session.left} of ${left.session.cap} ${currency} left`);
  if (left.day) out.push(`day cap: ${left.day.left} of ${left.day.cap} ${currency} left`);
  return out;
}

export interface ApprovalFacts {
  tool: string;
  title: string;
  argsHash: string;
  priceText: string;
  reason: string;
  keyArgs: Record<string, unknown>;
  balanceText?: string;
}

const SHOWN = 300;

/** Every argument, long strings (and long nested values, as JSON text) cut for display. */
export function displayArgs(args: Record<string, unknown>): Record<string, unknown> {
  const cut = (s: string): string => (s.length > SHOWN ? `${s.slice(0, SHOWN - 3)}...` : s);
  return Object.fromEntries(
    Object.entries(args).map(([k, v]) => {
      if (typeof v === 'string') return [k, cut(v)];
      if (v !== null && typeof v === 'object') {
        const json = JSON.stringify(v);
        return [k, json.length > SHOWN ? cut(json) : v];
      }
      return [k, v];
    }),
  );
}

/** Store a new pending approval; answers the result `_meta` that carries its ApprovalView. */
export async function createApproval(
  store: Store,
  facts: ApprovalFacts,
  app: AppContext,
  now: number,
  ttlMs: number,
  tokenHash?: string,
): Promise<Record<string, unknown>> {
  const id = `ap_${randomBytes(24).toString('base64url')}`;
  const expiresAt = now + ttlMs;
  await store.putApproval({
    idHash: sha256(id),
    tool: facts.tool,
    // Stored as canonical JSON (sorted keys): exactly the arguments the hash is of.
    args: JSON.parse(canonicalJson(app.args)) as Record<string, unknown>,
    argsHash: facts.argsHash,
    principal: app.principal,
    callerId: app.callerId,
    ...(app.idempotencyKey !== undefined ? { idempotencyKey: app.idempotencyKey } : {}),
    ...(tokenHash !== undefined ? { tokenHash } : {}),
    quotedCredits: app.quotedCredits,
    expiresAt,
    createdAt: now,
  });
  const view: ApprovalView = {
    approval_id: id,
    tool: facts.tool,
    title: facts.title,
    // Every argument the approval runs, not a selection: nothing the person approves is hidden.
    key_args: displayArgs(app.args),
    price_text: facts.priceText,
    balance_text: facts.balanceText ?? null,
    caps_left: app.capsLeft,
    reason: facts.reason,
    expires_at: new Date(expiresAt).toISOString(),
  };
  return { [APPROVAL_META]: view };
}

const REFUSED: Record<'declined' | 'expired', string> = {
  declined: 'was declined',
  expired: 'has expired',
};

/** Why an approval cannot be decided, and for a used one what ran for it. */
export interface Refusal {
  refused: ApprovalRefusal;
  /** The reservation (= job id) its call ran under, once recorded. */
  reservation?: string;
  /** Used by the model's call with the approval's fallback confirm_token. */
  byToken?: boolean;
}

/**
 * The error for an approval that cannot be decided. Unknown, declined or expired: nothing was sent. Used:
 * its call was sent (or is being sent), so the answer names the job or reservation and never says "nothing
 * was sent" or "ask again" (that would make a second paid job, DESIGN §5).
 */
export async function approvalRefused(store: Store, r: Refusal): Promise<MediagenError> {
  if (r.refused === 'unknown')
    return new MediagenError(
      'NOT_FOUND',
      'No such approval: it was never issued to you, or it was purged after it expired. Nothing was sent or charged.',
      { refused: r.refused },
    );
  if (r.refused !== 'used')
    return new MediagenError(
      'APPROVAL_INVALID',
      `This approval ${REFUSED[r.refused]}. Nothing was sent or charged; ask for the call again to get a new approval.`,
      { refused: r.refused },
    );
  const how = r.byToken ? ' (its confirm_token was used by a call)' : '';
  const job = r.reservation !== undefined ? await store.getJob(r.reservation) : undefined;
  const ran =
    job !== undefined
      ? `its call ran as job ${job.id} (${job.tool}); see jobs_get for it`
      : r.reservation !== undefined
        ? `its call ran under reservation ${r.reservation} and its outcome is being settled (or it failed); see jobs_list and spend_report`
        : 'its call was sent or is being sent now; see jobs_list and spend_report';
  return new MediagenError(
    'APPROVAL_INVALID',
    `This approval was already used${how}: ${ran}. Do not ask for the call again (that would be a second paid call).`,
    {
      refused: r.refused,
      ...(r.reservation !== undefined ? { reservation: r.reservation } : {}),
      ...(job !== undefined ? { job_id: job.id } : {}),
    },
  );
}
