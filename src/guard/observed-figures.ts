/**
 * What observed prices may stand for, and how amounts read from a provider are parsed.
 *
 * Amounts (balances, `charged` fields) are untrusted provider data: only a JSON number, or a string of
 * plain decimal digits (`12`, `12.5`), counts; hex, exponents, signs, blanks, NaN, Infinity, negative and
 * absurd values are discarded.
 *
 * Observed figures of one (tool, price key), from its latest RECENT_OBSERVATIONS observations: when there
 * are at least 3, an observation more than OUTLIER_FACTOR times the median of the others, or less than
 * that median divided by OUTLIER_FACTOR, is set aside (a top-up, a refund or another account's use
 * landing between the two balance reads). Of what is kept:
 * - consent (`--trust-observed-prices`) uses the highest, and only once MIN_TRUSTED observations are kept:
 *   never one or two observations;
 * - a cap reserves the highest; with fewer than MIN_TRUSTED kept, never less than `--unknown-price-reserve`.
 * When every observation is set aside (they disagree wildly), consent is not trusted and a cap reserves
 * the highest of them all.
 */
import type { ObservedPrice, PriceObservation } from '../store/store.js';
import { RECENT_OBSERVATIONS } from '../store/store.js';

/** A larger balance difference is not a price (a top-up, a refund, another account's use): not recorded. */
export const ABSURD_CREDITS = 100_000;
/** No balance is read above this. */
export const MAX_AMOUNT = 1e12;
/** Observations kept before an observed figure is trusted for consent. */
export const MIN_TRUSTED = 3;
/** How far from the median of the others an observation may be before it is set aside. */
export const OUTLIER_FACTOR = 4;

const DECIMAL = /^(0|[1-9][0-9]{0,15})(\.[0-9]{1,12})?$/;

/** A provider's amount as a number, or undefined when it is not a plain, sane, non-negative decimal. */
export function strictAmount(v: unknown, max = MAX_AMOUNT): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && DECIMAL.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > max) return undefined;
  return n === 0 ? 0 : n;
}

export interface ObservedFigures {
  /** The observations kept (newest first). */
  kept: number[];
  /** How many of the recent observations were set aside as outliers. */
  outliers: number;
  /** What a cap reserves: the highest kept (the highest of all when none is kept). */
  highest: number;
  /** What consent may take as the price under --trust-observed-prices; undefined below MIN_TRUSTED kept. */
  trusted: number | undefined;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The figures of a list of observations (newest first; at most RECENT_OBSERVATIONS are looked at). */
export function figuresOf(recent: readonly number[]): ObservedFigures | undefined {
  const xs = recent.slice(0, RECENT_OBSERVATIONS).filter((x) => strictAmount(x, ABSURD_CREDITS) !== undefined && x > 0);
  if (xs.length === 0) return undefined;
  const kept =
    xs.length < MIN_TRUSTED
      ? xs
      : xs.filter((x, i) => {
          const m = median(xs.filter((_, j) => j !== i));
          return x <= m * OUTLIER_FACTOR && x * OUTLIER_FACTOR >= m;
        });
  const highest = Math.max(...(kept.length ? kept : xs));
  return {
    kept,
    outliers: xs.length - kept.length,
    highest,
    trusted: kept.length >= MIN_TRUSTED ? highest : undefined,
  };
}

export function observedFigures(seen: ObservedPrice | undefined): ObservedFigures | undefined {
  return seen ? figuresOf(seen.recent) : undefined;
}

/**
 * What a cap reserves for an unknown price with these observations: the highest kept; with fewer than
 * MIN_TRUSTED kept, at least `fallback` (--unknown-price-reserve). Undefined without observations.
 */
export function capReserve(seen: ObservedPrice | undefined, fallback: number | undefined): number | undefined {
  const f = observedFigures(seen);
  if (!f) return undefined;
  return f.trusted === undefined && fallback !== undefined ? Math.max(f.highest, fallback) : f.highest;
}

/**
 * A price overlay (`--prices`) from observations: per tool, the highest figure a cap would reserve under
 * any of its price keys (outliers set aside as above), as `{"credits": N}`.
 */
export function exportOverlay(observations: readonly PriceObservation[]): {
  prices: Record<string, { credits: number }>;
} {
  const byKey = new Map<string, { tool: string; credits: number[] }>();
  for (const o of observations) {
    const k = JSON.stringify([o.tool, o.priceKey]);
    const e = byKey.get(k) ?? { tool: o.tool, credits: [] };
    e.credits.unshift(o.credits); // observations come oldest first; figures take newest first
    byKey.set(k, e);
  }
  const max = new Map<string, number>();
  for (const { tool, credits } of byKey.values()) {
    const f = figuresOf(credits);
    if (f) max.set(tool, Math.max(max.get(tool) ?? 0, f.highest));
  }
  const tools = [...max.keys()].sort();
  return { prices: Object.fromEntries(tools.map((t) => [t, { credits: max.get(t)! }])) };
}
