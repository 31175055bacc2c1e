/**
 * Obtaining consent, strongest first (DESIGN §12): an app approval a person clicks when the client renders
 * MCP App views, a form elicitation when it declared form elicitation, otherwise a single-use confirmation
 * token bound to the tool, the canonical arguments and the caller. Every way is bound to tool + canonical
 * arguments + principal + expiry and works once.
 */
import { randomBytes } from 'node:crypto';
import { MediagenError } from '../errors.js';
import type { ConsumeResult, PendingApproval, Store } from '../store/store.js';
import { approvalRefused, createApproval, type AppContext } from './approval.js';
import { sha256 } from './canonical.js';

/**
 * auto: app approval, else form, else token (an app approval's answer carries the token too, as the
 * fallback); elicitation: form only; token: token only; app-or-form: app approval or form, and no token
 * anywhere the model sees.
 */
export type ConsentMode = 'auto' | 'elicitation' | 'token' | 'app-or-form';
export const CONSENT_MODES: readonly ConsentMode[] = ['auto', 'elicitation', 'token', 'app-or-form'];

export interface ConsentRequest {
  tool: string;
  title: string;
  argsHash: string;
  callerId: string;
  /** "15 credits", "up to 54.6 credits", "unknown (why)". */
  priceText: string;
  reason: string;
  /** The arguments worth showing a person (prompt, model, duration...). */
  keyArgs: Record<string, unknown>;
  balanceText?: string;
  confirmToken?: string;
  /** Set when the client renders MCP App views: what a pending approval needs to run the call later. */
  app?: AppContext;
}

export type Elicit = (
  message: string,
  schema: Record<string, unknown>,
) => Promise<{ action: string; content?: Record<string, unknown> }>;

/** Consent given; a token's use can be undone while nothing was sent for it. */
export interface Consent {
  via: 'token' | 'elicitation' | 'app';
  /** The call was refused before anything was sent (a cap): the token (or approval) works once more. */
  giveBack(): Promise<void>;
  /**
   * The reservation (= job id) the call runs under, recorded on its approval before anything is sent, so a
   * used approval names it (absent when no approval stands behind this consent).
   */
  bind?(reservation: string): Promise<void>;
  /** Close the approval behind this consent for good before anything was sent (its price changed). */
  close?(): Promise<void>;
}

/** A pending approval taken by the person's Approve: the call to run, and its consent. */
export interface TakenApproval {
  approval: PendingApproval;
  consent: Consent;
}

const REFUSED: Record<Exclude<ConsumeResult, 'ok'>, string> = {
  unknown: 'the confirm_token is not one this server issued',
  used: 'the confirm_token was already used (each token works once)',
  expired: 'the confirm_token has expired',
  mismatch: 'the confirm_token was issued for another tool, other arguments or another caller',
};

export class ConsentGate {
  constructor(
    private readonly store: Store,
    private readonly mode: ConsentMode,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Resolves when consent is given; throws CONFIRMATION_REQUIRED or CONSENT_DECLINED otherwise. A token
   * is used up here; `giveBack` returns it when the call is then refused before anything is sent (a cap).
   */
  async obtain(req: ConsentRequest, elicit: Elicit | undefined): Promise<Consent> {
    let refused: string | undefined;
    if (req.confirmToken !== undefined && this.tokens) {
      const tokenHash = sha256(req.confirmToken);
      const usedAt = this.now();
      const verdict = await this.store.consumeToken(tokenHash, req.tool, req.argsHash, req.callerId, usedAt);
      if (verdict === 'ok') {
        // The approval issued with this token is the same consent: it is used now, not left to be declined.
        await this.store.useApprovalToken(tokenHash, usedAt);
        return {
          via: 'token',
          giveBack: async () => {
            await this.store.returnToken(tokenHash, usedAt);
            await this.store.returnApprovalToken(tokenHash, usedAt);
          },
          bind: (reservation) => this.store.bindApprovalReservation({ tokenHash }, reservation),
        };
      }
      // A client with a form never gets a token back: the refusal leads on to the view or the form.
      if (elicit === undefined) return this.ask(req, REFUSED[verdict]);
      refused = REFUSED[verdict];
    }
    const form = elicit !== undefined && this.mode !== 'token';
    if (req.app && this.apps) {
      // A client with both: the view first, the form as its fallback (never a token). Asked again while
      // the view is pending, the form is asked, and the pending view is closed first so only one can run it.
      if (!form) return this.ask(req, refused);
      const { principal, callerId } = req.app;
      const closed = await this.store.supersedeApprovals({
        tool: req.tool,
        argsHash: req.argsHash,
        principal,
        callerId,
        now: this.now(),
      });
      if (closed === 0) return this.ask(req, refused, true);
    }
    if (elicit && form) {
      await this.elicit(req, elicit);
      return { via: 'elicitation', giveBack: () => Promise.resolve() };
    }
    if (this.mode === 'elicitation')
      throw new MediagenError(
        'CONFIRMATION_REQUIRED',
        `${req.tool} costs ${req.priceText} and this server asks for consent only through an approval form, which this client does not support. Nothing was sent.`,
        { tool: req.tool, price: req.priceText, reason: req.reason, elicitationRequired: true },
      );
    if (this.mode === 'app-or-form')
      throw new MediagenError(
        'CONFIRMATION_REQUIRED',
        `${req.tool} costs ${req.priceText} and this server asks for consent only through an approval view (MCP Apps) or an approval form (form elicitation); this client shows neither. Use a client that shows an approval view or form. Nothing was sent.`,
        { tool: req.tool, price: req.priceText, reason: req.reason, approvalViewOrFormRequired: true },
      );
    return this.ask(req, refused);
  }

  /** The modes with a token path (auto, token): a confirm_token is issued and redeemed. */
  private get tokens(): boolean {
    return this.mode === 'auto' || this.mode === 'token';
  }

  /** The modes with an app path (auto, app-or-form). */
  private get apps(): boolean {
    return this.mode === 'auto' || this.mode === 'app-or-form';
  }

  /**
   * The person's Approve in a view: take the pending approval `approvalId` of `principal` (once). Throws
   * NOT_FOUND (never issued, another principal's, or purged) or APPROVAL_INVALID (used, declined, expired).
   */
  async take(approvalId: string, principal: string): Promise<TakenApproval> {
    const idHash = sha256(approvalId);
    const r = await this.store.takeApproval(idHash, principal, this.now());
    if (!r.ok) throw await approvalRefused(this.store, r);
    const { approval, usedAt } = r;
    const tokenHash = approval.tokenHash;
    if (tokenHash !== undefined) {
      // Its fallback token is the same consent: use it up too; if the model already used it, so is this
      // (its call was sent or is being sent: the row names its reservation once recorded).
      const verdict = await this.store.consumeToken(tokenHash, approval.tool, approval.argsHash, principal, usedAt);
      if (verdict === 'used') throw await approvalRefused(this.store, { refused: 'used', byToken: true });
      if (verdict !== 'ok') {
        await this.store.returnApproval(idHash, usedAt);
        throw await approvalRefused(this.store, { refused: verdict === 'expired' ? 'expired' : 'unknown' });
      }
    }
    const giveBack = async (): Promise<void> => {
      if (tokenHash !== undefined) await this.store.returnToken(tokenHash, usedAt);
      await this.store.returnApproval(idHash, usedAt);
    };
    const bind = (reservation: string): Promise<void> => this.store.bindApprovalReservation({ idHash }, reservation);
    const close = async (): Promise<void> => {
      // Back to pending, then declined: a later Approve is told it is closed, not that a call is running.
      await this.store.returnApproval(idHash, usedAt);
      await this.store.declineApproval(idHash, principal, this.now());
    };
    return { approval, consent: { via: 'app', giveBack, bind, close } };
  }

  /**
   * The person's Decline in a view: the approval is closed for good, and so is its fallback token (used
   * up, so the model cannot run what the person declined); refusals as for `take`. The answer comes from
   * burning the token: one the model used first (the two raced) means its call was sent, so this refuses
   * as used rather than letting the view say nothing was sent.
   */
  async decline(approvalId: string, principal: string): Promise<void> {
    const now = this.now();
    const r = await this.store.declineApproval(sha256(approvalId), principal, now);
    if (!r.ok) throw await approvalRefused(this.store, r);
    const { tokenHash, tool, argsHash } = r.approval;
    if (tokenHash === undefined) return;
    const verdict = await this.store.consumeToken(tokenHash, tool, argsHash, principal, now);
    if (verdict === 'used') throw await approvalRefused(this.store, { refused: 'used', byToken: true });
  }

  private summary(req: ConsentRequest): string {
    const args = Object.entries(req.keyArgs)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === 'string' && v.length > 120 ? JSON.stringify(v.slice(0, 117) + '...') : JSON.stringify(v)}`,
      )
      .join(', ');
    const balance = req.balanceText ? ` Balance: ${req.balanceText}.` : '';
    return `${req.title} (${req.tool}) with ${args || 'no arguments'}. Price: ${req.priceText}.${balance}`;
  }

  private async elicit(req: ConsentRequest, elicit: Elicit): Promise<'elicitation'> {
    const schema = {
      type: 'object',
      properties: {
        approve: {
          type: 'boolean',
          title: 'Approve this charge',
          description: `Spend ${req.priceText}`,
          default: false,
        },
      },
      required: ['approve'],
    };
    const answer = await elicit(`Approve a paid generation? ${this.summary(req)} Reason: ${req.reason}.`, schema);
    if (answer.action === 'accept' && answer.content?.approve === true) return 'elicitation';
    throw new MediagenError(
      'CONSENT_DECLINED',
      `The user did not approve ${req.tool} (${answer.action}). Nothing was sent or charged.`,
      {
        tool: req.tool,
        action: answer.action,
      },
    );
  }

  /**
   * CONFIRMATION_REQUIRED: with a pending approval in `_meta` when the client renders views (app path),
   * and with a confirm_token in the text and structuredContent when the mode has a token path.
   */
  private async ask(req: ConsentRequest, refused?: string, form = false): Promise<never> {
    const now = this.now();
    // A client that shows a form never gets a token: the form is the fallback, and a person answers it.
    const token = this.tokens && !form ? `ct_${randomBytes(24).toString('base64url')}` : undefined;
    if (token !== undefined)
      await this.store.putToken({
        tokenHash: sha256(token),
        tool: req.tool,
        argsHash: req.argsHash,
        callerId: req.callerId,
        expiresAt: now + this.ttlMs,
        createdAt: now,
      });
    // The approval names the token: one consent (using the token uses the approval; Approve and Decline
    // burn the token).
    const meta =
      req.app && this.apps
        ? await createApproval(this.store, req, req.app, now, this.ttlMs, token && sha256(token))
        : undefined;
    const lead = refused ? `Refused: ${refused}. ` : '';
    const message = `${lead}${this.summary(req)} Needs the user's approval: ${req.reason}. Nothing was sent.`;
    const base = {
      tool: req.tool,
      price: req.priceText,
      reason: req.reason,
      expires_in_seconds: Math.round(this.ttlMs / 1000),
      ...(refused ? { refused } : {}),
    };
    const minutes = Math.round(this.ttlMs / 60_000);
    const viewLine = 'The user can approve or decline it in the approval view shown with this result.';
    if (token === undefined) {
      throw new MediagenError(
        'CONFIRMATION_REQUIRED',
        message,
        {
          ...base,
          approval: 'view',
          hint: form
            ? `${viewLine} Only the user can approve it there (valid once, for ${minutes} min). Once approved, ` +
              `the view runs it and shows the job. If no view appears, call ${req.tool} again with the same ` +
              `arguments: the user is then asked with a form instead (and this view is closed).`
            : `${viewLine} Only the user can approve it there (valid once, for ${minutes} min); there is no other ` +
              `way. Do not call ${req.tool} again for this: once approved, the view runs it and shows the job.`,
        },
        meta,
      );
    }
    const ask =
      `Show the user the price and ask; never confirm on their behalf. If they approve, call ${req.tool} ` +
      `again with the same arguments plus "confirm_token": "${token}" (valid once, for ${minutes} min).`;
    throw new MediagenError(
      'CONFIRMATION_REQUIRED',
      message,
      {
        ...base,
        confirm_token: token,
        ...(meta ? { approval: 'view or token' } : {}),
        hint: meta ? `${viewLine} If no view appears: ${ask}` : ask,
      },
      meta,
    );
  }
}
