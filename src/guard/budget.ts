/**
 * Spend caps per provider, per session and per day: reserve the price atomically before the provider
 * request, commit when the provider accepts the job, release when it refuses (or the job fails and the
 * provider refunds), mark uncertain when it may have accepted but we could not tell.
 */
import { MediagenError } from '../errors.js';
import type { Store } from '../store/store.js';
import { round, type Quote } from './price.js';

export interface Caps {
  session: Readonly<Record<string, number>>;
  day: Readonly<Record<string, number>>;
}

export interface CapsLeft {
  session?: { cap: number; used: number; left: number };
  day?: { cap: number; used: number; left: number };
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface ReserveInput {
  id: string;
  provider: string;
  tool: string;
  callerId: string;
  principal: string;
  argsHash: string;
  quote: Quote;
  /** The highest observed price of this call when its price is unknown (reserved under a cap). */
  observedMax?: number;
}

export class Budget {
  constructor(
    private readonly store: Store,
    readonly caps: Caps,
    private readonly now: () => number,
    /** A reservation still open after this long is reported as uncertain (its process died). */
    readonly staleMs: number,
    /** Under a cap, an unknown price with no observation reserves this much (else it is refused). */
    readonly unknownReserve?: number,
  ) {}

  private capped(provider: string): boolean {
    return this.caps.session[provider] !== undefined || this.caps.day[provider] !== undefined;
  }

  /** What a call reserves: its price; under a cap, for an unknown price, the observed max or the default. */
  private credits(r: ReserveInput): number {
    if (r.quote.kind !== 'unknown') return r.quote.credits;
    if (!this.capped(r.provider)) return 0;
    const stand = r.observedMax ?? this.unknownReserve;
    if (stand !== undefined) return stand;
    throw new MediagenError(
      'BUDGET_EXCEEDED',
      `A spend cap is set for ${r.provider} and this call's price is unknown (${r.quote.reason}), so the cap cannot be kept. Nothing was sent.`,
      {
        provider: r.provider,
        hint: 'An operator can give the price in a price overlay (--prices), set --unknown-price-reserve, or lift the cap.',
      },
    );
  }

  async reserve(r: ReserveInput): Promise<number> {
    const credits = this.credits(r);
    const now = this.now();
    const res = await this.store.reserve({
      id: r.id,
      provider: r.provider,
      tool: r.tool,
      callerId: r.callerId,
      principal: r.principal,
      day: utcDay(now),
      credits,
      argsHash: r.argsHash,
      now,
      sessionCap: this.caps.session[r.provider],
      dayCap: this.caps.day[r.provider],
    });
    if (res.ok) return credits;
    const left = round(Math.max(0, res.cap - res.used));
    throw new MediagenError(
      'BUDGET_EXCEEDED',
      `The ${res.scope} cap for ${r.provider} is ${res.cap} credits; ${round(res.used)} used or reserved, ${left} left; this call needs ${credits}. Nothing was sent.`,
      { provider: r.provider, scope: res.scope, cap: res.cap, used: round(res.used), left, needed: credits },
    );
  }

  commit(id: string, jobId: string, actualCredits?: number): Promise<void> {
    return this.store.commit(id, jobId, this.now(), actualCredits);
  }

  release(id: string): Promise<void> {
    return this.store.release(id, this.now());
  }

  /** The accepted job failed: the provider gives its credits back (committed|uncertain -> refunded). */
  refund(id: string): Promise<void> {
    return this.store.refund(id, this.now());
  }

  uncertain(id: string): Promise<void> {
    return this.store.markUncertain(id, this.now());
  }

  /** What is left under each cap of a provider for this caller (session) and principal (day) today. */
  async left(provider: string, callerId: string, principal: string): Promise<CapsLeft> {
    const out: CapsLeft = {};
    const olderThan = this.now() - this.staleMs;
    const used = async (q: { callerId?: string; principal?: string; day?: string }): Promise<number> => {
      const t = (await this.store.spendTotals({ ...q, olderThan })).find((x) => x.provider === provider);
      return t ? round(t.committed + t.reserved + t.uncertain) : 0;
    };
    const sCap = this.caps.session[provider];
    const dCap = this.caps.day[provider];
    if (sCap !== undefined) {
      const u = await used({ callerId });
      out.session = { cap: sCap, used: u, left: round(Math.max(0, sCap - u)) };
    }
    if (dCap !== undefined) {
      const u = await used({ principal, day: utcDay(this.now()) });
      out.day = { cap: dCap, used: u, left: round(Math.max(0, dCap - u)) };
    }
    return out;
  }
}
