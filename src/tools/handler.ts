/**
 * The one generic handler for every catalogue tool: validate -> guard -> provider call -> result.
 * No code per operation.
 */
import { MediagenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProviderClient } from '../providers/client.js';
import { getPath } from '../providers/envelope.js';
import { GUARD_FIELDS, type ToolSpec } from './build.js';
import { validateArgs } from './validate.js';

export interface ToolResult {
  [key: string]: unknown;
  content: ({ type: 'text'; text: string } | { type: 'resource_link'; uri: string; name: string; mimeType?: string })[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface CallContext {
  signal: AbortSignal;
  /** Stable id of the caller (MCP session or stdio process), for consent tokens and caps. */
  callerId: string;
}

export interface HandlerDeps {
  clients: ReadonlyMap<string, ProviderClient>;
  logger: Logger;
}

/** The provider arguments only (guard fields removed). */
export function providerArgs(args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = { ...args };
  for (const k of Object.keys(GUARD_FIELDS)) delete out[k];
  return out;
}

export class ToolHandler {
  constructor(private readonly deps: HandlerDeps) {}

  client(provider: string): ProviderClient {
    const c = this.deps.clients.get(provider);
    if (!c) throw new MediagenError('NOT_CONFIGURED', `${provider} is not configured.`);
    return c;
  }

  async call(tool: ToolSpec, raw: unknown, ctx: CallContext): Promise<ToolResult> {
    const args = validateArgs(tool, raw);
    const sent = providerArgs(args);
    const client = this.client(tool.catalogue.provider);
    const { data } = await client.call(tool.op, sent, { safe: tool.op.readOnly, signal: ctx.signal });
    return tool.op.job ? this.created(tool, data) : this.answered(tool, data);
  }

  private created(tool: ToolSpec, data: unknown): ToolResult {
    const job = tool.op.job;
    const id = job ? getPath(data, job.idField) : undefined;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new MediagenError(
        'PROVIDER_HTTP',
        `${tool.catalogue.provider} accepted the request but sent no job id (${job?.idField}).`,
        {
          provider: tool.catalogue.provider,
          hint: 'The job may exist at the provider; check its dashboard before retrying.',
        },
      );
    const providerJobId = String(id);
    this.deps.logger.info('job created', { tool: tool.name, providerJobId });
    return {
      content: [
        {
          type: 'text',
          text: `Job started at ${tool.catalogue.provider}: ${providerJobId} (${tool.name}). Generation is asynchronous; poll for the result.`,
        },
      ],
      structuredContent: {
        provider: tool.catalogue.provider,
        tool: tool.name,
        provider_job_id: providerJobId,
        status: 'pending',
      },
    };
  }

  private answered(tool: ToolSpec, data: unknown): ToolResult {
    const structured =
      data !== null && typeof data === 'object' && !Array.isArray(data)
        ? (data as Record<string, unknown>)
        : { value: data };
    return {
      content: [{ type: 'text', text: JSON.stringify(data) }],
      structuredContent: structured,
    };
  }
}
