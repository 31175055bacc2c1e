/**
 * The spend view's reading of spend_report's structuredContent (src/tools/account-tools.ts and
 * spend-view.ts): types only, plus defensive reads, since a view must render whatever it is given.
 */

export interface Bar {
  day: string;
  committed: number;
  refunded: number;
  uncertain: number;
  reserved: number;
}

export interface ChartProvider {
  provider: string;
  currency: string;
  days: Bar[];
  totals: Omit<Bar, 'day'>;
}

export interface CapLeft {
  cap: number;
  used: number;
  left: number;
}

export interface Totals {
  committed: number;
  reserved: number;
  uncertain: number;
  refunded: number;
  released: number;
}

export interface ProviderRow {
  provider: string;
  all_time: Totals | null;
  today: Totals | null;
  session: Totals | null;
  caps: { session?: CapLeft; day?: CapLeft };
}

export interface UncertainRow {
  reservation: string;
  tool: string;
  provider: string;
  credits: number;
  currency?: string;
  job_id: string | null;
  uncertain_since: string;
  uncertain_for_seconds: number;
  what_to_do?: string;
}

export interface RefundRow {
  reservation: string;
  tool: string;
  provider: string;
  credits: number;
  currency: string;
  job_id: string | null;
  reserved_at: string;
  refunded_at: string;
}

export interface SpendReport {
  providers: ProviderRow[];
  chart: { basis?: string; days: string[]; providers: ChartProvider[] };
  uncertain: UncertainRow[];
  refunds: RefundRow[];
  /** By refund time (the chart is by reservation day); credits per currency, never summed across them. */
  refunds_total?: {
    days: number;
    basis?: string;
    count: number;
    currencies?: { currency: string; count: number; credits: number }[];
  };
  generated_at?: string;
  /** `mediagen-mcp ui`: why no session scope is shown. */
  session_note?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** The report in a tool result's structuredContent, or undefined when it is not one. */
export function readReport(structured: unknown): SpendReport | undefined {
  if (!isObject(structured) || !Array.isArray(structured.providers)) return undefined;
  const chart = isObject(structured.chart) ? structured.chart : {};
  return {
    providers: list<ProviderRow>(structured.providers),
    chart: {
      basis: typeof chart.basis === 'string' ? chart.basis : undefined,
      days: list<string>(chart.days),
      providers: list<ChartProvider>(chart.providers),
    },
    uncertain: list<UncertainRow>(structured.uncertain),
    refunds: list<RefundRow>(structured.refunds),
    refunds_total: isObject(structured.refunds_total)
      ? (structured.refunds_total as SpendReport['refunds_total'])
      : undefined,
    generated_at: typeof structured.generated_at === 'string' ? structured.generated_at : undefined,
    session_note: typeof structured.session_note === 'string' ? structured.session_note : undefined,
  };
}

/** Sums of floats drift (0.1 + 0.2): show credits rounded to 12 significant digits, as the server does. */
export function credits(n: number): string {
  return String(Number(Number(n).toPrecision(12)));
}
