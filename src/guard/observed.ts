/**
 * Observed prices: for a tool whose price is not published, the provider's balance is read (a free
 * route) before the create and again once the job reached a final state; when no other job of that
 * provider was created or open in this process between the two reads, the difference is recorded as an
 * observed price of the tool for its price key. When in doubt, nothing is recorded. A balance read that
 * fails never affects the paid call.
 *
 * Price key: the canonical JSON (sorted keys) of the arguments, defaults applied, whose parameter has an
 * `enum` or is a number, integer or boolean: what can change a price (model, duration, resolution,
 * counts…); free text (prompts) and URLs are left out.
 */
import type { Operation } from '../catalogue/format.js';
import type { Logger } from '../log.js';
import type { ObservedPrice, PriceObservation, Store } from '../store/store.js';
import { amountText, round, type Quote } from './price.js';

/** A larger difference is not a price (a top-up, a refund, another account's use): not recorded. */
export const ABSURD_CREDITS = 100_000;

export function priceKey(op: Operation, args: Readonly<Record<string, unknown>>): string {
  const keep = op.params
    .filter((p) => p.enum !== undefined || p.type === 'number' || p.type === 'integer' || p.type === 'boolean')
    .map((p) => p.name)
    .filter((n) => args[n] !== undefined)
    .sort();
  return JSON.stringify(Object.fromEntries(keep.map((n) => [n, args[n]])));
}

/** "last observed 12 credits (3 observations, latest 2026-11-27)". */
export function observedText(o: ObservedPrice, currency: string): string {
  const day = new Date(o.latestAt).toISOString().slice(0, 10);
  const n = o.count === 1 ? '1 observation' : `${o.count} observations`;
  return `last observed ${amountText(o.latest, currency)} (${n}, latest ${day})`;
}

/**
 * The quote the consent rule sees: the catalogue's, or — only when the operator trusts observed prices —
 * the highest observed figure in place of an unknown price.
 */
export function consentQuote(q: Quote, seen: ObservedPrice | undefined, trust: boolean | undefined): Quote {
  if (q.kind !== 'unknown' || !seen || !trust) return q;
  const n = seen.count === 1 ? '1 observation' : `${seen.count} observations`;
  return { kind: 'exact', credits: seen.max, detail: `observed, highest of ${n}` };
}

export interface SamplerDeps {
  store: Store;
  /** The provider's balance as a number, or undefined (no route, no key, unreadable). May throw. */
  balance: (provider: string, signal?: AbortSignal) => Promise<number | undefined>;
  logger: Logger;
  now: () => number;
}

interface Sample {
  provider: string;
  tool: string;
  priceKey: string;
  before: number;
  epoch: number;
}

/** How long a job that never reached a final state here keeps its provider "busy" (no sampling). */
const OPEN_MS = 2 * 3_600_000;

export class PriceSampler {
  /** provider -> paid calls and jobs of this process not yet final (id -> expiry). */
  private readonly open = new Map<string, Map<string, number>>();
  /** provider -> counter bumped by every paid call started. */
  private readonly epochs = new Map<string, number>();
  private readonly samples = new Map<string, Sample>();

  constructor(private readonly d: SamplerDeps) {}

  private others(provider: string, id: string): number {
    const m = this.open.get(provider);
    if (!m) return 0;
    const now = this.d.now();
    let n = 0;
    for (const [k, exp] of m) {
      if (exp <= now) m.delete(k);
      else if (k !== id) n++;
    }
    return n;
  }

  /**
   * A paid call of `provider` is about to be sent (every paid call, priced or not). When `sample` (its
   * price is unknown) and no other call or job of the provider is open, reads the balance first.
   */
  async begin(
    id: string,
    provider: string,
    sample: { tool: string; op: Operation; args: Record<string, unknown> } | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const alone = this.others(provider, id) === 0;
    const epoch = (this.epochs.get(provider) ?? 0) + 1;
    this.epochs.set(provider, epoch);
    const m = this.open.get(provider) ?? new Map<string, number>();
    m.set(id, this.d.now() + OPEN_MS);
    this.open.set(provider, m);
    if (!sample || !alone) return;
    const before = await this.read(provider, signal);
    if (before === undefined || this.epochs.get(provider) !== epoch) return;
    this.samples.set(id, { provider, tool: sample.tool, priceKey: priceKey(sample.op, sample.args), before, epoch });
  }

  /** The call or job `id` ended: `succeeded` (its charge is final) or not (nothing is recorded). */
  async finish(id: string, provider: string, succeeded: boolean, signal?: AbortSignal): Promise<void> {
    this.open.get(provider)?.delete(id);
    const s = this.samples.get(id);
    this.samples.delete(id);
    if (!s || !succeeded) return;
    const clean = (): boolean => this.epochs.get(provider) === s.epoch && this.others(provider, id) === 0;
    if (!clean()) return;
    const after = await this.read(provider, signal);
    if (after === undefined || !clean()) return;
    const credits = round(s.before - after);
    if (!(credits > 0) || credits > ABSURD_CREDITS) {
      this.d.logger.debug('balance difference not recorded as a price', { tool: s.tool, difference: credits });
      return;
    }
    try {
      await this.d.store.recordObservation({
        provider,
        tool: s.tool,
        priceKey: s.priceKey,
        credits,
        observedAt: this.d.now(),
      });
      this.d.logger.info('observed price recorded', { tool: s.tool, credits });
    } catch (err) {
      this.d.logger.debug('observed price not recorded', { tool: s.tool, error: String(err) });
    }
  }

  /** Forget a call whose outcome is unknown: its provider stays busy (no sampling) until it expires. */
  abandon(id: string): void {
    this.samples.delete(id);
  }

  private async read(provider: string, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const v = await this.d.balance(provider, signal);
      return v !== undefined && Number.isFinite(v) ? v : undefined;
    } catch (err) {
      this.d.logger.debug('balance read for an observed price failed', { provider, error: String(err) });
      return undefined;
    }
  }
}

/**
 * A price overlay (`--prices`) from observations: per tool, the highest figure observed under any of its
 * price keys, as `{"credits": N}` (conservative when the price varies with the arguments).
 */
export function exportOverlay(observations: readonly PriceObservation[]): {
  prices: Record<string, { credits: number }>;
} {
  const max = new Map<string, number>();
  for (const o of observations) max.set(o.tool, Math.max(max.get(o.tool) ?? 0, o.credits));
  const tools = [...max.keys()].sort();
  return { prices: Object.fromEntries(tools.map((t) => [t, { credits: max.get(t)! }])) };
}
