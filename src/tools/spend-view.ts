/**
 * spend_report's last 30 days, for the spend view (ui://mediagen/spend) and for clients that read text:
 * the caller's own credits per provider per UTC day (committed, refunded, uncertain, reserved), each
 * uncertain reservation with what to do about it, and the refunds. Read-only store queries.
 */
import { round } from '../guard/price.js';
import { utcDay } from '../guard/budget.js';
import type { DaySpend, ProviderRefunds, Reservation, Store } from '../store/store.js';

/**
 * What `mediagen-mcp ui` says instead of session figures: its page has no model session, and the caps of
 * its own (a fresh, empty one) would mislead. The day cap is the principal's, the same the guard applies.
 */
export const DESK_SESSION_NOTE = 'Session caps apply per model session; not shown here.';

/** A provider's caps left without the session scope when `drop` (the ui's page). */
export function withoutSession<T extends { session?: unknown }>(caps: T, drop: boolean): Omit<T, 'session'> {
  if (!drop) return caps;
  const rest: Omit<T, 'session'> & { session?: unknown } = { ...caps };
  delete rest.session;
  return rest;
}

/** Days the chart covers, today (UTC) included. */
export const CHART_DAYS = 30;
const DAY_MS = 86_400_000;

/** One provider's bar of one UTC day. */
export interface ChartDay {
  day: string;
  committed: number;
  refunded: number;
  uncertain: number;
  reserved: number;
}

export interface ChartProvider {
  provider: string;
  currency: string;
  /** Every day of the window, oldest first (zeros where nothing was spent). */
  days: ChartDay[];
  totals: Omit<ChartDay, 'day'>;
}

export interface SpendChart {
  /** Every figure of the chart is on its reservation's UTC day (a refund too: the day its call was made). */
  basis: 'reservation day';
  /** The window's UTC days, oldest first; the last is today. */
  days: string[];
  providers: ChartProvider[];
}

/** The UTC days of the window ending today, oldest first. */
export function windowDays(now: number, n = CHART_DAYS): string[] {
  return Array.from({ length: n }, (_, i) => utcDay(now - (n - 1 - i) * DAY_MS));
}

/** Where a refund window of the chart begins (ms): the first day's 00:00 UTC. */
export function windowStart(now: number): number {
  return Date.parse(`${windowDays(now)[0]}T00:00:00.000Z`);
}

/** Dense per-day bars per provider out of the store's sparse rows. */
export function buildChart(rows: readonly DaySpend[], now: number, currencyOf: (p: string) => string): SpendChart {
  const days = windowDays(now);
  const providers = [...new Set(rows.map((r) => r.provider))].sort();
  return {
    basis: 'reservation day',
    days,
    providers: providers.map((provider) => {
      const mine = new Map(rows.filter((r) => r.provider === provider).map((r) => [r.day, r]));
      const bars = days.map((day): ChartDay => {
        const r = mine.get(day);
        return {
          day,
          committed: r?.committed ?? 0,
          refunded: r?.refunded ?? 0,
          uncertain: r?.uncertain ?? 0,
          reserved: r?.reserved ?? 0,
        };
      });
      const sum = (k: keyof Omit<ChartDay, 'day'>): number => round(bars.reduce((s, b) => s + b[k], 0));
      return {
        provider,
        currency: currencyOf(provider),
        days: bars,
        totals: {
          committed: sum('committed'),
          refunded: sum('refunded'),
          uncertain: sum('uncertain'),
          reserved: sum('reserved'),
        },
      };
    }),
  };
}

/** The chart as text: one line per provider and day with spend. */
export function chartLines(chart: SpendChart): string[] {
  const lines: string[] = [];
  for (const p of chart.providers) {
    for (const b of p.days) {
      const parts = (['committed', 'refunded', 'uncertain', 'reserved'] as const)
        .filter((k) => b[k] > 0)
        .map((k) => `${round(b[k])} ${k}`);
      if (parts.length) lines.push(`  ${b.day} ${p.provider}: ${parts.join(', ')} ${p.currency}`);
    }
  }
  if (!lines.length) return [];
  return [`Last ${chart.days.length} days (UTC), per day with spend, by reservation day:`, ...lines];
}

/** What to do about one uncertain reservation (the text says it once for all; the view per row). */
export function uncertainAdvice(r: Reservation): string {
  return (
    `The ${r.provider} provider may have accepted this call (its answer was lost): check its dashboard before repeating it. ` +
    `If the job is there, jobs_track with tool ${r.tool}, its provider job id and reservation_id ${r.id} settles this reservation (committed, or refunded if the job failed).`
  );
}

/** One refund as the structured result lists it. */
export function refundEntry(r: Reservation, currency: string): Record<string, unknown> {
  return {
    reservation: r.id,
    tool: r.tool,
    provider: r.provider,
    credits: r.credits,
    currency,
    job_id: r.jobId,
    reserved_at: new Date(r.createdAt).toISOString(),
    refunded_at: new Date(r.updatedAt).toISOString(),
  };
}

/** Refund totals of one currency (never summed across currencies). */
export interface CurrencyRefunds {
  currency: string;
  count: number;
  credits: number;
}

/** The window's refund totals (by refund time): the count, and the credits per currency. */
export interface RefundTotals {
  days: number;
  basis: 'refund time';
  count: number;
  currencies: CurrencyRefunds[];
}

/** Per-provider refund totals folded into one total per currency. */
export function refundTotals(rows: readonly ProviderRefunds[], currencyOf: (p: string) => string): RefundTotals {
  const by = new Map<string, CurrencyRefunds>();
  for (const r of rows) {
    const currency = currencyOf(r.provider);
    const t = by.get(currency) ?? { currency, count: 0, credits: 0 };
    by.set(currency, { currency, count: t.count + r.count, credits: round(t.credits + r.credits) });
  }
  const currencies = [...by.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  return { days: CHART_DAYS, basis: 'refund time', count: currencies.reduce((n, c) => n + c.count, 0), currencies };
}

/** The refunds as text: their count and credits per currency (by refund time), then the latest few. */
export function refundLines(
  refunds: readonly Reservation[],
  total: RefundTotals,
  currencyOf: (p: string) => string,
  shown = 10,
): string[] {
  if (!total.count) return [];
  const sums = total.currencies.map((c) => `${round(c.credits)} ${c.currency}`).join(', ');
  return [
    `Refunded in the last ${CHART_DAYS} days, by refund time: ${total.count} reservation${total.count === 1 ? '' : 's'} (${sums}), as their jobs failed:`,
    ...refunds
      .slice(0, shown)
      .map(
        (r) =>
          `  ${new Date(r.updatedAt).toISOString()} ${r.tool} ${round(r.credits)} ${currencyOf(r.provider)} refunded${r.jobId ? ` ${r.jobId}` : ''}`,
      ),
  ];
}

/** The store reads of the window: per-day rows, the latest refunds and the refund totals per provider. */
export async function readWindow(
  store: Store,
  principal: string,
  now: number,
  olderThan: number,
): Promise<{ rows: DaySpend[]; refunds: Reservation[]; refundRows: ProviderRefunds[] }> {
  const since = windowStart(now);
  const [rows, refunds, refundRows] = await Promise.all([
    store.spendByDay({ principal, fromDay: windowDays(now)[0], olderThan }),
    store.refundsSince({ principal, since }),
    store.refundsByProvider({ principal, since }),
  ]);
  return { rows, refunds, refundRows };
}
