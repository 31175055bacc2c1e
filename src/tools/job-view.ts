/** How a job looks to the agent: one text summary, resource_link per output, and structuredContent. */
import type { JobRecord } from '../store/store.js';
import type { ToolResult } from './handler.js';

export function jobStructured(job: JobRecord): Record<string, unknown> {
  return {
    job_id: job.id,
    status: job.status,
    provider: job.provider,
    tool: job.tool,
    provider_job_id: job.providerJobId,
    provider_status: job.providerStatus,
    progress: job.progress,
    price: job.price,
    outputs: job.outputs.map((o) => ({
      url: o.url,
      kind: o.kind,
      mime_type: o.mimeType ?? null,
      path: o.path ?? null,
    })),
    error: job.error,
    created_at: new Date(job.createdAt).toISOString(),
    updated_at: new Date(job.updatedAt).toISOString(),
    finished_at: job.finishedAt ? new Date(job.finishedAt).toISOString() : null,
  };
}

export function nextStep(job: JobRecord): string {
  switch (job.status) {
    case 'succeeded':
      return job.outputs.length ? '' : 'The provider reported success but no output URL.';
    case 'failed':
    case 'cancelled':
      return '';
    default:
      return `Call jobs_wait with {"job_id": "${job.id}"} to wait for the result.`;
  }
}

export function jobResult(job: JobRecord, lead: string, extra: Record<string, unknown> = {}): ToolResult {
  const lines = [lead];
  job.outputs.forEach((o, i) => lines.push(`${i + 1}. ${o.kind}: ${o.url}${o.path ? ` (saved to ${o.path})` : ''}`));
  if (job.error) lines.push(`Reason: ${job.error}`);
  const step = nextStep(job);
  if (step) lines.push(step);
  const links = job.outputs
    .filter((o) => /^https?:\/\//.test(o.url))
    .map((o, i) => ({
      type: 'resource_link' as const,
      uri: o.url,
      name: `${job.id}-${i + 1}`,
      ...(o.mimeType ? { mimeType: o.mimeType } : {}),
      description: `${o.kind} output ${i + 1} of ${job.tool}`,
    }));
  return {
    content: [{ type: 'text', text: lines.join('\n') }, ...links],
    structuredContent: { ...jobStructured(job), ...extra },
  };
}
