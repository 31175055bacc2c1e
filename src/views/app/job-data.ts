/** The job as the server's tools put it in structuredContent (src/tools/job-view.ts jobStructured). */

export interface OutputView {
  url: string;
  kind: string;
  mime_type: string | null;
  stored_url?: string;
  stored_type?: string | null;
  stored_note?: string;
  store_error?: string;
}

/** The job's spend reservation: committed = charged, refunded, uncertain, reserved, released. */
export interface ChargeView {
  state: string;
  credits: number;
  at: string;
}

export interface JobView {
  job_id: string;
  status: string;
  provider: string;
  tool: string;
  provider_status: string | null;
  progress: number | null;
  price: number | null;
  price_text?: string;
  charge?: ChargeView | null;
  arguments?: Record<string, unknown>;
  outputs: OutputView[];
  error: string | null;
  /** The ledger's poll interval for an open job: the view polls no faster than this. */
  poll_after_ms?: number;
  created_at: string;
  finished_at: string | null;
}

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The job in a structuredContent, or undefined when it holds none. */
export function asJob(sc: unknown): JobView | undefined {
  if (!isObject(sc) || typeof sc.job_id !== 'string' || typeof sc.status !== 'string') return undefined;
  const outputs = Array.isArray(sc.outputs) ? sc.outputs.filter(isObject) : [];
  return {
    ...(sc as unknown as JobView),
    outputs: outputs
      .filter((o) => typeof o.url === 'string')
      .map((o) => ({ ...(o as unknown as OutputView), kind: typeof o.kind === 'string' ? o.kind : 'file' })),
    arguments: isObject(sc.arguments) ? sc.arguments : undefined,
    charge: isObject(sc.charge) ? (sc.charge as unknown as ChargeView) : null,
  };
}

/** The text of a tool result (its text blocks joined). */
export function resultText(r: { content?: unknown }): string {
  const blocks = Array.isArray(r.content) ? r.content : [];
  return blocks
    .filter((b): b is { type: 'text'; text: string } => isObject(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('\n');
}

/** "up to 54.6 credits" / "15 credits" / "unknown". */
export function priceWords(job: JobView): string {
  if (job.price_text) return job.price_text;
  return job.price === null || job.price === undefined ? 'unknown' : `${job.price} credits`;
}

/** What the reservation says was paid, in words. */
export function chargeWords(c: ChargeView | null | undefined, price: number | null): string {
  if (!c) return 'not recorded (a job adopted with jobs_track, or from before the spend ledger)';
  const credits = c.credits
    ? `${c.credits} credits`
    : price === null
      ? 'an amount the provider did not say'
      : '0 credits';
  switch (c.state) {
    case 'committed':
      return `charged: ${credits}`;
    case 'refunded':
      return `refunded: ${credits} given back`;
    case 'released':
      return 'nothing charged';
    case 'uncertain':
      return `not known yet: ${credits} held (see spend_report)`;
    default:
      return `held: ${credits} while the create is answered`;
  }
}
