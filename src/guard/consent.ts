/**
 * Obtaining consent: a form elicitation when the client declared the capability, otherwise a
 * single-use confirmation token bound to the tool, the canonical arguments and the caller.
 */
import { randomBytes } from 'node:crypto';
import { MediagenError } from '../errors.js';
import type { ConsumeResult, Store } from '../store/store.js';
import { sha256 } from './canonical.js';

export type ConsentMode = 'auto' | 'elicitation' | 'token';

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
}

export type Elicit = (
  message: string,
  schema: Record<string, unknown>,
) => Promise<{ action: string; content?: Record<string, unknown> }>;

/** Consent given; a token's use can be undone while nothing was sent for it. */
export interface Consent {
  via: 'token' | 'elicitation';
  /** The call was refused before anything was sent (a cap): the token works once more. */
  giveBack(): Promise<void>;
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
    if (req.confirmToken !== undefined && this.mode !== 'elicitation') {
      const tokenHash = sha256(req.confirmToken);
      const usedAt = this.now();
      const verdict = await this.store.consumeToken(tokenHash, req.tool, req.argsHash, req.callerId, usedAt);
      if (verdict === 'ok') return { via: 'token', giveBack: () => this.store.returnToken(tokenHash, usedAt) };
      return this.requireToken(req, REFUSED[verdict]);
    }
    if (elicit && this.mode !== 'token') {
      await this.elicit(req, elicit);
      return { via: 'elicitation', giveBack: () => Promise.resolve() };
    }
    if (this.mode === 'elicitation')
      throw new MediagenError(
        'CONFIRMATION_REQUIRED',
        `${req.tool} costs ${req.priceText} and this server asks for consent only through an approval form, which this client does not support. Nothing was sent.`,
        { tool: req.tool, price: req.priceText, reason: req.reason, elicitationRequired: true },
      );
    return this.requireToken(req);
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

  private async requireToken(req: ConsentRequest, refused?: string): Promise<never> {
    const token = `ct_${randomBytes(24).toString('base64url')}`;
    const now = this.now();
    await this.store.putToken({
      tokenHash: sha256(token),
      tool: req.tool,
      argsHash: req.argsHash,
      callerId: req.callerId,
      expiresAt: now + this.ttlMs,
      createdAt: now,
    });
    const minutes = Math.round(this.ttlMs / 60_000);
    const lead = refused ? `Refused: ${refused}. ` : '';
    throw new MediagenError(
      'CONFIRMATION_REQUIRED',
      `${lead}${this.summary(req)} Needs the user's approval: ${req.reason}. Nothing was sent.`,
      {
        tool: req.tool,
        price: req.priceText,
        reason: req.reason,
        confirm_token: token,
        expires_in_seconds: Math.round(this.ttlMs / 1000),
        ...(refused ? { refused } : {}),
        hint:
          `Show the user the price and ask; never confirm on their behalf. If they approve, call ${req.tool} ` +
          `again with the same arguments plus "confirm_token": "${token}" (valid once, for ${minutes} min).`,
      },
    );
  }
}
