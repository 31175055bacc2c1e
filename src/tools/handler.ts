/**
 * The one generic handler for every catalogue tool: validate -> (paid: guard, one request, ledger)
 * -> result. No code per operation.
 */
import { MediagenError } from '../errors.js';
import { argsHash as hashArgs } from '../guard/canonical.js';
import type { Consent, Elicit } from '../guard/consent.js';
import { getPath } from '../providers/envelope.js';
import { clientFor } from '../providers/client.js';
import { GUARD_FIELDS, type JsonSchema, type ToolAnnotations, type ToolSpec } from './build.js';
import type { LinkMaker } from '../outputs/links.js';
import { jobResult, pollAfter, reservationFor } from './job-view.js';
import { quoteText, runPaid, type PaidDeps, type PaidOutcome } from './paid.js';
import { checkUrlArguments, type UrlPolicy } from './url-arguments.js';
import { validateArgs } from './validate.js';

export type Content =
  | { type: 'text'; text: string }
  | { type: 'resource_link'; uri: string; name: string; mimeType?: string; description?: string }
  /** A preview: base64 bytes (src/previews/). */
  | { type: 'image' | 'audio'; data: string; mimeType: string };

export interface ToolResult {
  [key: string]: unknown;
  content: Content[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface CallContext {
  signal: AbortSignal;
  /** The principal (stdio: `local`; HTTP: from the bearer token): owns jobs, consent tokens, keys, day caps. */
  principal: string;
  /** The session (MCP session id, the stdio process, or the principal in stateless HTTP), for session caps. */
  callerId: string;
}

/** What a tool call may use of the MCP request beyond its arguments. */
export interface RequestTools {
  /** notifications/progress, when the request carried a progress token. */
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  /** Form elicitation, when the client declared the capability. */
  elicit?: Elicit;
  /** The client declared the MCP Apps extension (io.modelcontextprotocol/ui): it can render the views. */
  apps?: boolean;
}

/** A server-level tool (quote, jobs_*, spend_report): not from a catalogue. */
export interface ServerTool {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchema;
  annotations: ToolAnnotations;
  /** Listed as the tool's `_meta` (e.g. `ui.resourceUri`, `ui.visibility`; see views/uris.ts). */
  _meta?: Record<string, unknown>;
  run(args: unknown, ctx: CallContext, req: RequestTools): Promise<ToolResult>;
}

export type HandlerDeps = PaidDeps & {
  /** URL arguments naming loopback, private or link-local hosts are refused, except these allows. */
  urlPolicy?: UrlPolicy;
  /** Links to kept outputs (a job answered again for its idempotency_key may have them). */
  links?: LinkMaker;
};

/** Split validated arguments into provider arguments and guard fields. */
export function splitArgs(args: Readonly<Record<string, unknown>>): {
  sent: Record<string, unknown>;
  confirmToken?: string;
  idempotencyKey?: string;
} {
  const sent = { ...args };
  for (const k of Object.keys(GUARD_FIELDS)) delete sent[k];
  return {
    sent,
    confirmToken: typeof args.confirm_token === 'string' ? args.confirm_token : undefined,
    idempotencyKey: typeof args.idempotency_key === 'string' ? args.idempotency_key : undefined,
  };
}

export class ToolHandler {
  constructor(private readonly deps: HandlerDeps) {}

  async call(tool: ToolSpec, raw: unknown, ctx: CallContext, req: RequestTools = {}): Promise<ToolResult> {
    const valid = validateArgs(tool, raw);
    checkUrlArguments(tool.name, tool.op, valid, this.deps.urlPolicy);
    const { sent, confirmToken, idempotencyKey } = splitArgs(valid);
    // A per-engine key that is missing refuses the call here: before consent, caps and any request.
    clientFor(this.deps.clients, tool.catalogue.provider).extraHeaders(tool.op, sent);
    if (!tool.paid) {
      const { data } = await clientFor(this.deps.clients, tool.catalogue.provider).call(tool.op, sent, {
        safe: true,
        signal: ctx.signal,
      });
      return answered(tool, data);
    }
    const outcome = await runPaid(this.deps, {
      tool,
      args: sent,
      confirmToken,
      idempotencyKey,
      callerId: ctx.callerId,
      principal: ctx.principal,
      signal: ctx.signal,
      elicit: req.elicit,
      apps: req.apps,
    });
    return this.present(tool, outcome);
  }

  /**
   * Run a call a person approved in a view (a pending approval taken once): the same checks and money path
   * as `call`, consent already given. Refused before anything was sent: the approval is given back.
   */
  async approved(
    tool: ToolSpec,
    args: Record<string, unknown>,
    bound: { argsHash: string; idempotencyKey?: string; approvedCredits?: number | null },
    consent: Consent,
    ctx: CallContext,
  ): Promise<ToolResult> {
    let sent: Record<string, unknown>;
    try {
      // The catalogue or URL policy may have changed since it was asked for: the same judges run again.
      sent = splitArgs(validateArgs(tool, args)).sent;
      checkUrlArguments(tool.name, tool.op, sent, this.deps.urlPolicy);
      clientFor(this.deps.clients, tool.catalogue.provider).extraHeaders(tool.op, sent);
      if (hashArgs(tool.name, sent) !== bound.argsHash)
        throw new MediagenError(
          'APPROVAL_INVALID',
          `The arguments of this approval no longer validate to the call that was approved (${tool.name} changed). Nothing was sent or charged; ask for the call again.`,
          { refused: 'mismatch' },
        );
    } catch (err) {
      await consent.giveBack();
      throw err;
    }
    const outcome = await runPaid(this.deps, {
      tool,
      args: sent,
      idempotencyKey: bound.idempotencyKey,
      ...(bound.approvedCredits !== undefined ? { approvedCredits: bound.approvedCredits } : {}),
      callerId: ctx.callerId,
      principal: ctx.principal,
      signal: ctx.signal,
      consent,
    });
    return this.present(tool, outcome);
  }

  private async present(tool: ToolSpec, outcome: PaidOutcome): Promise<ToolResult> {
    const price = quoteText(outcome.quote, tool.catalogue.currency);
    if (outcome.kind === 'answer') return answered(tool, outcome.data, price);
    const { job, reused } = outcome;
    const lead = reused
      ? `Job ${job.id} already exists for this idempotency_key (${job.tool}, status ${job.status}); nothing new was sent or charged.`
      : `Job ${job.id} started: ${job.tool} at ${job.provider} (provider job ${job.providerJobId}). Price: ${price}.`;
    const charge = (await reservationFor(this.deps.store, job)) ?? null;
    return jobResult(
      job,
      lead,
      { reused, price_text: price, ...pollAfter(this.deps.ledger, job) },
      await this.deps.links?.(job),
      charge,
    );
  }
}

/** A synchronous answer: the catalogue's text field when it names one, plus what the provider charged. */
function answered(tool: ToolSpec, data: unknown, price?: string): ToolResult {
  const structured =
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : { value: data };
  const spec = tool.op.response;
  const answer = spec?.text !== undefined ? getPath(data, spec.text) : undefined;
  const lines = [typeof answer === 'string' ? answer : JSON.stringify(data)];
  const charged = spec?.charged !== undefined ? getPath(data, spec.charged) : undefined;
  if (typeof charged === 'number' || typeof charged === 'string')
    lines.push(`Charged: ${String(charged)} ${tool.catalogue.currency}.`);
  else if (price) lines.push(`Price: ${price}.`);
  return { content: [{ type: 'text', text: lines.join('\n\n') }], structuredContent: structured };
}
