/** How a job looks to the agent: one text summary, resource_link per output, and structuredContent. */
import { RAW_RESULT } from '../jobs/results.js';
import type { StoredLinks } from '../outputs/links.js';
import type { JobOutput, JobRecord, Reservation, Store } from '../store/store.js';
import type { ToolResult } from './handler.js';

/**
 * `poll_after_ms` for an open job: the ledger's poll interval (schedule.ts), so a view asks no faster than
 * the ledger would poll the provider. Nothing for a final job.
 */
export function pollAfter(
  ledger: { pollAfterMs(job: JobRecord): number | null },
  job: JobRecord,
): Record<string, number> {
  const ms = ledger.pollAfterMs(job);
  return ms === null ? {} : { poll_after_ms: ms };
}

const isRaw = (o: JobOutput): boolean => o.kind === RAW_RESULT;
/** The job's outputs, the raw-result excerpt (kept as an output so both stores hold it) set apart. */
const outputsOf = (job: JobRecord): JobOutput[] => job.outputs.filter((o) => !isRaw(o));
const excerptOf = (job: JobRecord): string | null => job.outputs.find(isRaw)?.url ?? null;

/** A kept output's fields: its stored link (made fresh for this read), type and size, or why it was not kept. */
function storedFields(o: JobOutput, links?: StoredLinks): Record<string, unknown> {
  const url = links?.urls.get(o);
  return {
    ...(url !== undefined
      ? { stored_url: url, stored_type: o.storedType ?? null, stored_bytes: o.storedBytes ?? null }
      : {}),
    ...(links?.notes?.has(o) ? { stored_note: links.notes.get(o) } : {}),
    ...(o.storeError ? { store_error: o.storeError } : {}),
  };
}

/** The output's saved path, unless it is not to be shown here (a remote caller, a file on the server). */
const pathOf = (o: JobOutput, links?: StoredLinks): string | undefined =>
  links?.hidePaths?.has(o) ? undefined : o.path;

/** Bounds of the arguments a job shows (structuredContent): whatever a caller sent, the result stays small. */
export const ARG_LIMITS = { chars: 4000, items: 20, keys: 30, depth: 4, listPrompt: 300, listChars: 200 };

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * A provider argument as the views show it, bounded recursively: strings cut (a prompt is at most a few
 * thousand characters), arrays and objects capped in count (a note says how many were left off) and in depth.
 */
export function shownArg(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return cut(v, ARG_LIMITS.chars);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= ARG_LIMITS.depth) return Array.isArray(v) ? `[${v.length} items]` : '{…}';
  if (Array.isArray(v)) {
    const kept = v.slice(0, ARG_LIMITS.items).map((x) => shownArg(x, depth + 1));
    return v.length > ARG_LIMITS.items ? [...kept, `… ${v.length - ARG_LIMITS.items} more`] : kept;
  }
  const entries = Object.entries(v);
  const kept = entries.slice(0, ARG_LIMITS.keys).map(([k, x]) => [cut(k, 100), shownArg(x, depth + 1)]);
  if (entries.length > ARG_LIMITS.keys) kept.push(['…', `${entries.length - ARG_LIMITS.keys} more`]);
  return Object.fromEntries(kept);
}

/** A job's arguments in a list (jobs_list): the prompt (cut to 300) and the scalar arguments only. */
export function listedArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args).slice(0, ARG_LIMITS.keys)) {
    if (typeof v === 'string') out[cut(k, 100)] = cut(v, k === 'prompt' ? ARG_LIMITS.listPrompt : ARG_LIMITS.listChars);
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[cut(k, 100)] = v;
  }
  return out;
}

/**
 * What the job's spend reservation (same id as the job; or the one committed to it) says was paid:
 * `committed` = charged, `refunded` = given back (the job failed), `uncertain` = not known yet, `reserved` =
 * held while the create is answered. null: no reservation (an adopted job, or one from before the ledger).
 */
export function chargeOf(r: Reservation | undefined | null): Record<string, unknown> | null {
  return r ? { state: r.state, credits: r.credits, at: new Date(r.updatedAt).toISOString() } : null;
}

/** The job's reservation, for chargeOf; undefined when none (or the store cannot tell now). */
export async function reservationFor(store: Store, job: JobRecord): Promise<Reservation | undefined> {
  try {
    const own = await store.getReservation(job.id);
    if (own && own.principal === job.principal) return own;
    const paid = await store.reservationOfJob(job.id);
    return paid && paid.principal === job.principal ? paid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The job as structuredContent (for views and programs; the text says the same for the model). `charge`:
 * its reservation (see chargeOf), when the caller looked it up. `listed`: one of many (jobs_list), with
 * only the prompt and scalar arguments.
 */
export function jobStructured(
  job: JobRecord,
  links?: StoredLinks,
  charge?: Reservation | null,
  listed = false,
): Record<string, unknown> {
  const excerpt = excerptOf(job);
  return {
    job_id: job.id,
    status: job.status,
    provider: job.provider,
    tool: job.tool,
    provider_job_id: job.providerJobId,
    provider_status: job.providerStatus,
    progress: job.progress,
    price: job.price,
    ...(charge !== undefined ? { charge: chargeOf(charge) } : {}),
    arguments: listed ? listedArgs(job.args) : (shownArg(job.args) as Record<string, unknown>),
    outputs: outputsOf(job).map((o) => ({
      url: o.url,
      kind: o.kind,
      mime_type: o.mimeType ?? null,
      path: pathOf(o, links) ?? null,
      ...(o.source ? { found_by: 'scan' } : {}),
      ...storedFields(o, links),
    })),
    ...(excerpt !== null ? { result_excerpt: excerpt } : {}),
    ...(job.byok ? { own_key: true } : {}),
    error: job.error,
    created_at: new Date(job.createdAt).toISOString(),
    updated_at: new Date(job.updatedAt).toISOString(),
    finished_at: job.finishedAt ? new Date(job.finishedAt).toISOString() : null,
  };
}

export function nextStep(job: JobRecord): string {
  switch (job.status) {
    case 'succeeded':
      if (!job.outputs.length) return 'The provider reported success but no output URL.';
      if (!excerptOf(job)) return '';
      return outputsOf(job).length
        ? "The declared result fields were empty; the URLs above were found by scanning the provider's result."
        : "The declared result fields were empty and the provider's result holds no URL; see its excerpt above.";
    case 'failed':
    case 'cancelled':
      return '';
    default:
      return job.byok
        ? `Created with your own ${job.provider} key, so nothing polls this job in the background: it advances only ` +
            `when jobs_wait or jobs_get is called with that key in the X-Mediagen-Key-${job.provider} header. ` +
            `Call jobs_wait with {"job_id": "${job.id}"} (with the header) to wait for the result.`
        : `Call jobs_wait with {"job_id": "${job.id}"} to wait for the result.`;
  }
}

/** One output's line: the provider URL, then the kept copy (or why it was not kept) and a saved file. */
function outputLine(o: JobOutput, i: number, links?: StoredLinks): string {
  const stored = links?.urls.get(o);
  const path = pathOf(o, links);
  const saved = path && path !== stored ? ` (saved to ${path})` : '';
  const note = links?.notes?.get(o);
  const kept =
    stored === undefined
      ? o.storeError
        ? ` (not kept: ${o.storeError.replace(/^not kept: /, '')})`
        : note
          ? ` (${note})`
          : ''
      : links?.fetchable
        ? `\n   stored_url: ${stored}`
        : ` (kept at ${stored})`;
  return `${i + 1}. ${o.kind}: ${o.url}${saved}${kept}`;
}

/**
 * A job as a tool result. `links`: the kept outputs' links, made fresh for this read; a fetchable stored
 * URL (s3) is what the output's resource_link points at, a local path is named in the text only.
 */
export function jobResult(
  job: JobRecord,
  lead: string,
  extra: Record<string, unknown> = {},
  links?: StoredLinks,
  charge?: Reservation | null,
): ToolResult {
  const lines = [lead];
  const outputs = outputsOf(job);
  outputs.forEach((o, i) => lines.push(outputLine(o, i, links)));
  const excerpt = excerptOf(job);
  if (excerpt !== null) lines.push(`Provider result (excerpt): ${excerpt}`);
  if (job.error) lines.push(`Reason: ${job.error}`);
  const step = nextStep(job);
  if (step) lines.push(step);
  const resources = outputs
    .filter((o) => /^https?:\/\//.test(o.url))
    .map((o, i) => {
      const stored = links?.fetchable ? links.urls.get(o) : undefined;
      const mimeType = stored !== undefined ? o.storedType : o.mimeType;
      return {
        type: 'resource_link' as const,
        uri: stored ?? o.url,
        name: `${job.id}-${i + 1}`,
        ...(mimeType ? { mimeType } : {}),
        description: `${o.kind} output ${i + 1} of ${job.tool}${stored !== undefined ? ' (kept copy)' : ''}`,
      };
    });
  return {
    content: [{ type: 'text', text: lines.join('\n') }, ...resources],
    structuredContent: { ...jobStructured(job, links, charge), ...extra },
  };
}
