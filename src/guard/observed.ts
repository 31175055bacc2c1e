/**
 * Observed prices: for a tool whose price is not published, the provider's balance is read (a free
 * route) before the create and again once the job reached a final state. The difference is recorded as an
 * observed price of the tool for its price key only when the store shows no other reservation or job of
 * that provider (any principal, any process sharing the store) that may have moved the balance between
 * the two reads (Store.otherActivity), checked before each read and again after the last one. Overlap is
 * per provider, whatever key a principal uses: conservative, since two keys may be one account. When in
 * doubt (a store or balance read that fails, an amount that is not a plain decimal), nothing is
 * recorded; none of this ever affects the paid call. What observations may stand for is in
 * observed-figures.ts.
 *
 * Price key: the canonical JSON (sorted keys) of the arguments, defaults applied, whose parameter has an
 * `enum` or is a number, integer or boolean: what can change a price (model, duration, resolution,
 * counts…); free text (prompts) and URLs are left out.
 */
import type { Operation } from '../catalogue/format.js';
import type { Logger } from '../log.js';
import type { ObservedPrice, Store } from '../store/store.js';
import { ABSURD_CREDITS, MIN_TRUSTED, observedFigures, strictAmount } from './observed-figures.js';
import { amountText, round, type Quote } from './price.js';

export { ABSURD_CREDITS, exportOverlay } from './observed-figures.js';

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
 * The quote the consent rule sees: the catalogue's, or — only when the operator trusts observed prices
 * and at least MIN_TRUSTED observations are kept — the highest kept figure in place of an unknown price.
 */
export function consentQuote(q: Quote, seen: ObservedPrice | undefined, trust: boolean | undefined): Quote {
  if (q.kind !== 'unknown' || !trust) return q;
  const f = observedFigures(seen);
  if (!f) return q;
  if (f.trusted === undefined)
    return { ...q, reason: `${q.reason}; ${f.kept.length} usable observation(s), ${MIN_TRUSTED} needed to trust one` };
  const aside = f.outliers ? `; ${f.outliers} set aside as outliers` : '';
  return { kind: 'exact', credits: f.trusted, detail: `observed, highest of ${f.kept.length} observations${aside}` };
}

export interface SamplerDeps {
  store: Store;
  /** The provider's balance as read (any value: only a plain decimal counts), or undefined. May throw. */
  balance: (provider: string, signal?: AbortSignal) => Promise<unknown>;
  logger: Logger;
  now: () => number;
}

interface Sample {
  provider: string;
  tool: string;
  priceKey: string;
  before: number;
  /** Start of the window (before the first read, less the clock margin). */
  from: number;
}

/** Rows created this long before a window are not looked at: their calls and jobs are long over. */
export const HORIZON_MS = 6 * 3_600_000;
/** A failed or cancelled job's refund may land this long after we saw it end. */
export const SETTLE_MS = 10 * 60_000;
/** Processes sharing a PostgreSQL store may disagree on the time by this much. */
export const CLOCK_MARGIN_MS = 1_000;
/** Samples kept at most (a job finished by another process never comes back here). */
const MAX_SAMPLES = 1_000;

export class PriceSampler {
  private readonly samples = new Map<string, Sample>();

  constructor(private readonly d: SamplerDeps) {}

  /**
   * The paid call `id` (its reservation, already in the store) is about to be sent. When `sample` (its
   * price is unknown) and the store shows no other activity of the provider, reads the balance first.
   */
  async begin(
    id: string,
    provider: string,
    sample: { tool: string; op: Operation; args: Record<string, unknown> } | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!sample) return;
    this.prune();
    const from = this.d.now() - CLOCK_MARGIN_MS;
    if (await this.busy(id, provider, from)) return;
    const before = await this.read(provider, signal);
    if (before === undefined) return;
    this.samples.set(id, { provider, tool: sample.tool, priceKey: priceKey(sample.op, sample.args), before, from });
  }

  /** The call or job `id` ended: `succeeded` (its charge is final) or not (nothing is recorded). */
  async finish(id: string, provider: string, succeeded: boolean, signal?: AbortSignal): Promise<void> {
    const s = this.samples.get(id);
    this.samples.delete(id);
    if (!s || !succeeded || s.provider !== provider) return;
    if (await this.busy(id, provider, s.from)) return;
    const after = await this.read(provider, signal);
    // The decisive check: after the last read, nothing else of the provider in the whole window.
    if (after === undefined || (await this.busy(id, provider, s.from))) return;
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

  /** Forget a call whose outcome is unknown (its uncertain reservation keeps the provider busy). */
  abandon(id: string): void {
    this.samples.delete(id);
  }

  /** Anything else of the provider from `from` until now (plus the clock margin); true when unsure. */
  private async busy(id: string, provider: string, from: number): Promise<boolean> {
    try {
      const to = this.d.now() + CLOCK_MARGIN_MS;
      const q = { provider, exceptId: id, from, to, horizonMs: HORIZON_MS, settleMs: SETTLE_MS };
      const busy = await this.d.store.otherActivity(q);
      if (busy) this.d.logger.debug('balance not sampled: other activity of the provider', { provider });
      return busy;
    } catch (err) {
      this.d.logger.debug('activity check for an observed price failed', { provider, error: String(err) });
      return true;
    }
  }

  private prune(): void {
    const old = this.d.now() - HORIZON_MS;
    for (const [k, s] of this.samples) if (s.from < old || this.samples.size >= MAX_SAMPLES) this.samples.delete(k);
  }

  private async read(provider: string, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const raw = await this.d.balance(provider, signal);
      const v = strictAmount(raw);
      if (v === undefined && raw !== undefined)
        this.d.logger.debug('balance is not a plain decimal number; not sampled', { provider });
      return v;
    } catch (err) {
      this.d.logger.debug('balance read for an observed price failed', { provider, error: String(err) });
      return undefined;
    }
  }
}
