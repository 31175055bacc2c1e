/**
 * The observed-prices SQL of both stores (named `@parameters`: SQLite binds them as they are, PostgreSQL
 * through `named`), and the mapping of its rows.
 */
import { RECENT_OBSERVATIONS, type ActivityQuery, type ObservedPrice } from './store.js';

/** One statement per store: the summary and the recent figures come from one snapshot. */
const summary = (recent: string): string =>
  `SELECT MAX(credits) AS max, COUNT(*) AS count, MAX(observed_at) AS latest_at, (${recent}) AS recent
   FROM observed_prices WHERE tool = @tool AND price_key = @key`;

const latestRows = `SELECT credits, observed_at, id FROM observed_prices WHERE tool = @tool AND price_key = @key
  ORDER BY observed_at DESC, id DESC LIMIT ${RECENT_OBSERVATIONS}`;

export const OBSERVED_SUMMARY_SQLITE = summary(`SELECT json_group_array(credits) FROM (${latestRows})`);
export const OBSERVED_SUMMARY_PG = summary(
  `SELECT COALESCE(json_agg(r.credits ORDER BY r.observed_at DESC, r.id DESC), '[]'::json) FROM (${latestRows}) r`,
);

export interface SummaryRow {
  max: number | null;
  count: number | string;
  latest_at: number | null;
  /** A JSON array: text from SQLite, already parsed from PostgreSQL. */
  recent: string | unknown[] | null;
}

export function rowToObserved(r: SummaryRow | undefined): ObservedPrice | undefined {
  if (r === undefined || r.max === null || r.latest_at === null || r.recent === null) return undefined;
  const list: unknown = typeof r.recent === 'string' ? JSON.parse(r.recent) : r.recent;
  const recent = Array.isArray(list) ? list.map(Number).filter((n) => Number.isFinite(n)) : [];
  if (recent.length === 0) return undefined;
  return { latest: recent[0], max: r.max, count: Number(r.count), latestAt: r.latest_at, recent };
}

/** 1 when another reservation or job of the provider may have moved its balance (store.ts, ActivityQuery). */
export const OTHER_ACTIVITY_SQL = `SELECT CASE WHEN EXISTS (
    SELECT 1 FROM reservations
    WHERE provider = @provider AND id <> @except AND created_at >= @horizon AND created_at <= @until
      AND NOT (state IN ('committed', 'released') AND updated_at < @since)
      AND NOT (state = 'refunded' AND updated_at < @settled)
  ) OR EXISTS (
    SELECT 1 FROM jobs
    WHERE provider = @provider AND id <> @except AND created_at >= @horizon AND created_at <= @until
      AND NOT (status = 'succeeded' AND COALESCE(finished_at, updated_at) < @since)
      AND NOT (status IN ('failed', 'cancelled') AND COALESCE(finished_at, updated_at) < @settled)
  ) OR EXISTS (
    -- A job older than the horizon still counts while open (it may run 48 h past our limit) or when it
    -- failed within settleMs (its refund may land now).
    SELECT 1 FROM jobs
    WHERE provider = @provider AND id <> @except AND created_at < @horizon
      AND (status NOT IN ('succeeded', 'failed', 'cancelled') OR COALESCE(finished_at, updated_at) >= @settled)
  ) THEN 1 ELSE 0 END AS busy`;

export function activityParams(q: ActivityQuery): Record<string, string | number> {
  return {
    provider: q.provider,
    except: q.exceptId,
    horizon: q.from - q.horizonMs,
    until: q.to,
    since: q.from,
    settled: q.from - q.settleMs,
  };
}
