/** How a job looks to the agent: one text summary, resource_link per output, and structuredContent. */
import { RAW_RESULT } from '../jobs/results.js';
import type { StoredLinks } from '../outputs/links.js';
import type { JobOutput, JobRecord } from '../store/store.js';
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

export function jobStructured(job: JobRecord, links?: StoredLinks): Record<string, unknown> {
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
    structuredContent: { ...jobStructured(job, links), ...extra },
  };
}
