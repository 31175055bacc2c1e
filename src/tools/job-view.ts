/** How a job looks to the agent: one text summary, resource_link per output, and structuredContent. */
import { RAW_RESULT } from '../jobs/results.js';
import type { StoredLinks } from '../outputs/links.js';
import type { JobOutput, JobRecord, Reservation, Store } from '../store/store.js';
import type { ToolResult } from './handler.js';

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

/** A provider argument as the views show it: long strings cut (a prompt is at most a few thousand characters). */
const shownArg = (v: unknown): unknown => (typeof v === 'string' && v.length > 4000 ? `${v.slice(0, 4000)}…` : v);

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
 * its reservation (see chargeOf), when the caller looked it up.
 */
export function jobStructured(
  job: JobRecord,
  links?: StoredLinks,
  charge?: Reservation | null,
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
    arguments: Object.fromEntries(Object.entries(job.args).map(([k, v]) => [k, shownArg(v)])),
    outputs: outputsOf(job).map((o) => ({
      url: o.url,
      kind: o.kind,
      mime_type: o.mimeType ?? null,
      path: pathOf(o, links) ?? null,
      ...(o.source ? { found_by: 'scan' } : {}),
      ...storedFields(o, links),
    })),
    ...(excerpt !== null ? { result_excerpt: excerpt } : {}),
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
      return `Call jobs_wait with {"job_id": "${job.id}"} to wait for the result.`;
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
