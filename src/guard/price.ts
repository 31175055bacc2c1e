/**
 * Price expressions -> credits for the given (defaults-applied) arguments, and the one-line price
 * summary shown in a tool's description. An unknown price is never guessed.
 */
import type { PriceExpr, PriceTable } from '../catalogue/format.js';

export type Quote =
  | { kind: 'exact'; credits: number; detail: string }
  | { kind: 'upTo'; credits: number; detail: string }
  | { kind: 'unknown'; reason: string };

type Args = Readonly<Record<string, unknown>>;
type Amount = number | { table: PriceTable };

/** Round away float noise (1.21 * 3 = 3.6299999999999994). */
export function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** 1234.5 -> "1,234.5" (no float noise, no trailing zeros). */
export function num(n: number): string {
  // Not toLocaleString: ICU formatting costs ~40 µs a call, which a 5,000-operation catalogue notices.
  const [int, frac] = String(round(n)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ',');
  return frac ? `${grouped}.${frac}` : grouped;
}

/** "1 credit", "0.5 credits", "1,000 credits": the currency word agrees with the amount. */
export function amountText(n: number, currency = 'credits'): string {
  return `${num(n)} ${n === 1 ? currency.replace(/^(\w+?)s\b/, '$1') : currency}`;
}

/** A unit as read after "per": numbers get thousands separators ("1000 characters" -> "1,000 characters"). */
export function unitText(unit: string): string {
  return unit.replace(/\d{4,}(\.\d+)?/g, (m) => num(Number(m)));
}

/** "30 seconds", "1 second", "3 × 10 MB". */
function unitCount(n: number, unit: string): string {
  if (/^\d/.test(unit)) return `${num(n)} × ${unitText(unit)}`;
  return `${num(n)} ${n === 1 || unit.endsWith('s') ? unit : unit + 's'}`;
}

export function tableKey(by: readonly string[], args: Args): string {
  return by.map((name) => String(args[name])).join('|');
}

function lookup(table: PriceTable, args: Args): number | undefined {
  return table.rows[tableKey(table.by, args)];
}

function amount(a: Amount, args: Args): number | undefined {
  return typeof a === 'number' ? a : lookup(a.table, args);
}

function keyText(table: PriceTable, args: Args): string {
  return table.by.map((name) => `${name}=${String(args[name])}`).join(', ');
}

export function priceCall(expr: PriceExpr, args: Args): Quote {
  if ('unknown' in expr) return { kind: 'unknown', reason: expr.unknown };
  if ('credits' in expr) return { kind: 'exact', credits: expr.credits, detail: 'fixed price' };
  if ('table' in expr) {
    const credits = lookup(expr.table, args);
    if (credits === undefined)
      return { kind: 'unknown', reason: `no documented price for ${keyText(expr.table, args)}` };
    return { kind: 'exact', credits, detail: keyText(expr.table, args) };
  }
  const u = expr.perUnit;
  const rate = amount(u.rate, args);
  if (rate === undefined) return { kind: 'unknown', reason: `no documented rate for these arguments` };
  const min = u.minimum ?? 0;
  const units = u.param !== undefined ? args[u.param] : undefined;
  if (typeof units === 'number' || (typeof units === 'string' && units !== '' && !isNaN(Number(units)))) {
    const n = Number(units);
    return {
      kind: 'exact',
      credits: round(Math.max(min, rate * n)),
      detail: `${num(rate)} per ${unitText(u.unit)} × ${num(n)}`,
    };
  }
  const most = u.upTo === undefined ? undefined : amount(u.upTo, args);
  if (most !== undefined)
    return {
      kind: 'upTo',
      credits: round(Math.max(min, rate * most)),
      detail: `${num(rate)} per ${unitText(u.unit)}, at most ${unitCount(most, u.unit)}`,
    };
  const floor = min ? `, minimum ${num(min)}` : '';
  return {
    kind: 'unknown',
    reason: `${amountText(rate)} per ${unitText(u.unit)}${floor}; the count is known only after the call`,
  };
}

function values(a: Amount): number[] {
  return typeof a === 'number' ? [a] : Object.values(a.table.rows);
}

function span(nums: number[]): string {
  const lo = Math.min(...nums);
  const hi = Math.max(...nums);
  return lo === hi ? num(lo) : `${num(lo)}–${num(hi)}`;
}

/** The lowest and highest charge the expression allows, when known. */
export function priceRange(expr: PriceExpr): { min: number; max: number } | undefined {
  if ('unknown' in expr) return undefined;
  if ('credits' in expr) return { min: expr.credits, max: expr.credits };
  if ('table' in expr) {
    const v = values({ table: expr.table });
    return { min: Math.min(...v), max: Math.max(...v) };
  }
  const u = expr.perUnit;
  if (u.upTo === undefined) return undefined;
  const rates = values(u.rate);
  const most = values(u.upTo);
  return { min: u.minimum ?? 0, max: round(Math.max(...rates) * Math.max(...most)) };
}

/** The amounts of a span read with the currency: "1 credit", "2–35 credits". */
function spanText(nums: number[], currency: string): string {
  const s = span(nums);
  return Math.min(...nums) === Math.max(...nums) ? amountText(nums[0], currency) : `${s} ${currency}`;
}

/** "15 credits (veo3_fast) or 50 (veo3)", "2–35 credits by resolution, duration, audio", ... */
export function describePrice(expr: PriceExpr, currency = 'credits'): string {
  if ('unknown' in expr) return 'unknown';
  if ('credits' in expr) return amountText(expr.credits, currency);
  if ('table' in expr) {
    const entries = Object.entries(expr.table.rows);
    if (expr.table.by.length === 1 && entries.length <= 4) {
      const parts = entries.map(([k, v], n) => (n === 0 ? `${amountText(v, currency)} (${k})` : `${num(v)} (${k})`));
      return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}` : parts[0];
    }
    return `${spanText(
      entries.map(([, v]) => v),
      currency,
    )} by ${expr.table.by.join(' × ')}`;
  }
  const u = expr.perUnit;
  const rate = `${spanText(values(u.rate), currency)} per ${unitText(u.unit)}`;
  const range = priceRange(expr);
  if (range) return `${rate}, up to ${num(range.max)}`;
  return u.minimum ? `${rate}, minimum ${num(u.minimum)}` : rate;
}
