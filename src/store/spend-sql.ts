/**
 * The spend view's read-only queries, one SQL text for both stores (named parameters; PostgreSQL's are
 * numbered by postgres-schema.ts `named`): credits per provider and UTC day, and the refunds.
 */
import { roundCredits, type DaySpend } from './store.js';

/**
 * Per provider and UTC day (the reservation's `day`, as the day cap counts it) from `@fromDay` on, of
 * `@principal`: credits by state, a 'reserved' row created before `@olderThan` counted as uncertain.
 */
export const SPEND_BY_DAY_SQL = `SELECT provider, day,
    COALESCE(SUM(CASE WHEN state = 'committed' THEN credits END), 0) AS committed,
    COALESCE(SUM(CASE WHEN state = 'reserved' AND created_at >= @olderThan THEN credits END), 0) AS reserved,
    COALESCE(SUM(CASE WHEN state = 'uncertain' OR (state = 'reserved' AND created_at < @olderThan)
      THEN credits END), 0) AS uncertain,
    COALESCE(SUM(CASE WHEN state = 'refunded' THEN credits END), 0) AS refunded,
    COALESCE(SUM(CASE WHEN state = 'released' THEN credits END), 0) AS released
  FROM reservations WHERE principal = @principal AND day >= @fromDay
  GROUP BY provider, day ORDER BY provider, day`;

/** `@principal`'s reservations refunded at or after `@since`, latest refund first, at most `@limit`. */
export const REFUNDS_SQL = `SELECT * FROM reservations
  WHERE principal = @principal AND state = 'refunded' AND updated_at >= @since
  ORDER BY updated_at DESC, id DESC LIMIT @limit`;

/** `@principal`'s refunds at or after `@since` (refund time), counted and summed per provider. */
export const REFUNDS_BY_PROVIDER_SQL = `SELECT provider, COUNT(*) AS n, COALESCE(SUM(credits), 0) AS credits
  FROM reservations WHERE principal = @principal AND state = 'refunded' AND updated_at >= @since
  GROUP BY provider ORDER BY provider`;

/** The most refunds refundsSince answers. */
export const REFUNDS_LIMIT = 100;

export interface DaySpendRow {
  provider: string;
  day: string;
  committed: number | string;
  reserved: number | string;
  uncertain: number | string;
  refunded: number | string;
  released: number | string;
}

export function rowToDaySpend(r: DaySpendRow): DaySpend {
  const n = (v: number | string): number => roundCredits(Number(v));
  return {
    provider: r.provider,
    day: r.day,
    committed: n(r.committed),
    reserved: n(r.reserved),
    uncertain: n(r.uncertain),
    refunded: n(r.refunded),
    released: n(r.released),
  };
}

/** A limit in 1..REFUNDS_LIMIT (REFUNDS_LIMIT when unset or not a number). */
export function refundsLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return REFUNDS_LIMIT;
  return Math.min(REFUNDS_LIMIT, Math.max(1, Math.floor(limit)));
}
