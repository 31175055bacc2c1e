/**
 * createServer(deps) -> an MCP Server with every registered tool. No transport, no process side effects.
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestParamsSchema,
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import * as z4 from 'zod/v4';
import { MediagenError, toToolResult } from './errors.js';
import type { Logger } from './log.js';
import type { JsonSchema, ToolAnnotations, ToolSpec } from './tools/build.js';
import type { CallContext, RequestTools, ServerTool, ToolHandler, ToolResult } from './tools/handler.js';
import type { JobTasks } from './tools/job-tasks.js';
import { ledgerTaskStore } from './server-tasks.js';
import type { ViewResources } from './views/resources.js';
import { linkView, viewOf } from './views/tool-meta.js';
import { APPROVE_TOOL, appsCapable } from './views/uris.js';
import { keysFromHeaders, requestKey, withRequestKeys } from './request-keys.js';
import { logContext, withLogContext } from './log-context.js';
import { outcomeLabel, type Metrics } from './metrics/metrics.js';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface ServerDeps {
  tools: readonly ToolSpec[];
  handler: ToolHandler;
  serverTools?: readonly ServerTool[];
  logger: Logger;
  /** Who is calling: the principal owns jobs, consent tokens, idempotency keys and day caps. */
  principal: string;
  /** Session key when the transport has no MCP session (stdio: one per process; stateless HTTP: the principal). */
  defaultCallerId?: string;
  /** Every call's session key, whatever the transport's session (`mediagen-mcp ui`: the person at the desk). */
  callerId?: string;
  /** How long an approval form may stay unanswered (default 60 s). */
  consentTimeoutMs?: number;
  /** MCP Tasks over the job ledger: job-creating tools then accept task-augmented calls. */
  tasks?: JobTasks;
  /** The MCP App views (resources/list, resources/read); tools link them for apps-capable clients. */
  views?: ViewResources;
  /** --byok: a tool call uses the provider keys its HTTP request sent (X-Mediagen-Key-<Provider>), for that call only. */
  byok?: boolean;
  /** Counts tool calls by tool and outcome (/metrics). */
  metrics?: Metrics;
}

/**
 * tools/call with any `arguments`: the SDK's own schema would answer a non-object with a JSON-RPC error,
 * where a tool should answer BAD_ARGUMENTS.
 */
const LooseCallToolRequestSchema = CallToolRequestSchema.extend({
  params: CallToolRequestParamsSchema.extend({ arguments: z4.unknown().optional() }),
});

/** Deeper arguments than any tool takes are refused before anything walks them recursively. */
export const MAX_ARGUMENT_DEPTH = 32;

function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}

function checkArguments(args: unknown): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args))
    throw new MediagenError(
      'BAD_ARGUMENTS',
      `arguments must be a JSON object of named arguments, got ${Array.isArray(args) ? 'an array' : typeof args}.`,
    );
  if (tooDeep(args, MAX_ARGUMENT_DEPTH))
    throw new MediagenError('BAD_ARGUMENTS', `arguments are nested deeper than ${MAX_ARGUMENT_DEPTH} levels.`);
  return args as Record<string, unknown>;
}

/**
 * Whether the client can show a form elicitation: `elicitation.form`, or an empty `elicitation: {}` (which
 * meant form before URL mode existed). `{ url: {} }` alone is URL mode only.
 */
export function formElicitation(capabilities: { elicitation?: Record<string, unknown> } | undefined): boolean {
  const e = capabilities?.elicitation;
  if (e === undefined || e === null || typeof e !== 'object') return false;
  return e.form !== undefined || Object.keys(e).length === 0;
}

/** A tool name as we echo it: a hostile 5 MB name comes back as its first 200 characters. */
export function shownName(name: unknown): string {
  const s = String(name);
  return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} characters)` : s;
}

function listing(
  t: {
    name: string;
    title: string;
    description: string;
    inputSchema: JsonSchema;
    annotations: ToolAnnotations;
    op?: { job?: unknown };
    _meta?: Record<string, unknown>;
  },
  tasks: boolean,
) {
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema,
    annotations: t.annotations,
    // A job-creating tool may run as an MCP task (the guarded create first, then the job as the task).
    ...(tasks && t.op?.job ? { execution: { taskSupport: 'optional' as const } } : {}),
    ...(t._meta ? { _meta: t._meta } : {}),
  };
}

export interface MediagenServer {
  server: Server;
  /** Resolves when no tool call is in flight (or after timeoutMs). */
  drain(timeoutMs?: number): Promise<void>;
}

export function createServer(deps: ServerDeps): MediagenServer {
  const fallbackCaller = deps.callerId ?? deps.defaultCallerId ?? `process:${randomUUID()}`;
  const callerOf = (extra: Extra): string => deps.callerId ?? extra.sessionId ?? fallbackCaller;
  const tasks = deps.tasks;
  const server = new Server(
    { name: 'mediagen-mcp', title: 'Media generation (mediagen-mcp)', version: VERSION },
    {
      capabilities: {
        tools: { listChanged: false },
        logging: {},
        ...(tasks ? { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } : {}),
        ...(deps.views ? { resources: {} } : {}),
      },
      ...(tasks ? { taskStore: ledgerTaskStore(tasks, deps.principal, fallbackCaller) } : {}),
      instructions:
        "Media generation tools spend the user's credits; each paid tool's description ends with its price. " +
        'When a call returns CONFIRMATION_REQUIRED, show the price to the user and ask; never confirm on their ' +
        'behalf. Where the client shows an approval view, the person approves or declines there, and the text ' +
        'says so. Otherwise, if they approve, repeat the call with the same arguments plus the confirm_token it ' +
        'returned (single use, short-lived). Paid tools also accept idempotency_key (8-128 characters): repeating a call with the same key ' +
        'returns the job already created instead of paying twice. Generation is asynchronous: a create call ' +
        'returns a job_id; call jobs_wait (again if it says the job is still running) to get result URLs. ' +
        'URL arguments (format uri) must be http:// or https://.',
    },
  );
  const catalogueTools = new Map(deps.tools.map((t) => [t.name, t]));
  const serverTools = new Map((deps.serverTools ?? []).map((t) => [t.name, t]));
  const listed = [
    ...deps.tools.map((t) => listing(t, tasks !== undefined)),
    ...(deps.serverTools ?? []).map((t) => listing(t, false)),
  ];

  const inflight = new Set<Promise<unknown>>();
  const drain = async (timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (inflight.size && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inflight]),
        new Promise((r) => (timer = setTimeout(r, deadline - Date.now()))),
      ]);
      clearTimeout(timer);
    }
    // Let the SDK send the answers of the calls that just finished before anyone closes the transport.
    await new Promise((r) => setImmediate(r));
  };

  // A client that declared the MCP Apps extension also sees which view each tool links (views/tool-meta.ts).
  const jobCreating = new Set(deps.tools.filter((t) => t.op.job).map((t) => t.name));
  const listedWithViews = listed.map((t) => {
    const uri = viewOf(t.name, jobCreating.has(t.name));
    return uri && deps.views?.has(uri) ? { ...t, _meta: linkView(t._meta, uri) } : t;
  });
  // The approval view's buttons (app-only) exist only for a client that renders views: no other client's
  // model is shown them, nor may call them (it never gets an approval to press them for).
  const withoutApps = listed.filter((t) => t.name !== APPROVE_TOOL);
  server.setRequestHandler(ListToolsRequestSchema, () => {
    if (!appsCapable(server.getClientCapabilities())) return { tools: withoutApps };
    return { tools: deps.views ? listedWithViews : listed };
  });
  const views = deps.views;
  if (views) {
    // Listed to apps-capable clients only (no other client can show them); resources/read answers anyone.
    server.setRequestHandler(ListResourcesRequestSchema, () => ({
      resources: appsCapable(server.getClientCapabilities()) ? views.list() : [],
    }));
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
      const uri = request.params.uri;
      const content = await views.read(uri).catch((err: unknown) => {
        deps.logger.error('view not readable (was `npm run build` run?)', { uri, error: String(err) });
        throw new McpError(ErrorCode.InternalError, `The view ${shownName(uri)} could not be read.`);
      });
      // -32002: the spec's "resource not found".
      if (!content) throw new McpError(-32002, `Resource not found: ${shownName(uri)}`);
      return { contents: [content] };
    });
  }

  // Registered on the protocol layer with the loose schema (see LooseCallToolRequestSchema).
  Protocol.prototype.setRequestHandler.call(
    server,
    LooseCallToolRequestSchema,
    (request: z4.infer<typeof LooseCallToolRequestSchema>, extra: Extra): Promise<CallToolResult> => {
      // The request's own provider keys (--byok; the HTTP layer refused malformed ones) live as long as this call.
      const keys =
        deps.byok && extra.requestInfo ? keysFromHeaders(extra.requestInfo.headers) : new Map<string, string>();
      // Log lines of this call carry its principal, tool and request id (the HTTP request's, when there is one).
      const known = catalogueTools.has(request.params.name) || serverTools.has(request.params.name);
      const context = {
        principal: deps.principal,
        tool: known ? request.params.name : '(unknown)',
        ...(logContext()?.request_id ? {} : { request_id: String(extra.requestId) }),
      };
      const run = withRequestKeys(keys, () =>
        withLogContext(context, () =>
          request.params.task && tasks ? callAsTask(request.params, extra, tasks) : callTool(request.params, extra),
        ),
      );
      inflight.add(run);
      return run.finally(() => inflight.delete(run));
    },
  );

  type CallParams = { name: string; arguments?: unknown; _meta?: { progressToken?: string | number } };
  type Extra = Parameters<Parameters<typeof server.setRequestHandler<typeof CallToolRequestSchema>>[1]>[1];
  const consentTimeoutMs = deps.consentTimeoutMs ?? 60_000;

  async function elicit(extra: Extra, message: string, schema: Record<string, unknown>) {
    try {
      return await server.elicitInput(
        { message, requestedSchema: schema as never },
        { signal: extra.signal, timeout: consentTimeoutMs },
      );
    } catch (err) {
      if (extra.signal.aborted) throw err;
      if (err instanceof McpError && err.code === ErrorCode.RequestTimeout)
        throw new MediagenError(
          'CONSENT_TIMEOUT',
          `The approval form was not answered within ${Math.round(consentTimeoutMs / 1000)} s. Nothing was sent or charged.`,
        );
      const why = String((err as Error).message ?? err).slice(0, 200);
      throw new MediagenError(
        'CONSENT_DECLINED',
        `The approval form's answer could not be read (${why}). Nothing was sent or charged.`,
      );
    }
  }

  /** A tool call, counted by tool and outcome (ok, or its error code). */
  async function callTool(params: CallParams, extra: Extra): Promise<CallToolResult> {
    const result = await answerCall(params, extra);
    const known = catalogueTools.has(params.name) || serverTools.has(params.name);
    deps.metrics?.toolCall(known ? params.name : '(unknown)', result.isError ? outcomeLabel(result) : 'ok');
    return result;
  }

  async function answerCall(params: CallParams, extra: Extra): Promise<CallToolResult> {
    const { name } = params;
    const ctx: CallContext = {
      signal: extra.signal,
      principal: deps.principal,
      callerId: callerOf(extra),
    };
    const token = params._meta?.progressToken;
    const req: RequestTools = {
      progress:
        token === undefined
          ? undefined
          : (progress, total, message) =>
              extra.sendNotification({
                method: 'notifications/progress',
                params: {
                  progressToken: token,
                  progress,
                  ...(total !== undefined ? { total } : {}),
                  ...(message ? { message } : {}),
                },
              }),
      // Form elicitation only: a client that declared URL mode alone cannot show a form (it gets the token).
      elicit: formElicitation(server.getClientCapabilities())
        ? (message, schema) => elicit(extra, message, schema)
        : undefined,
      apps: appsCapable(server.getClientCapabilities()),
    };
    try {
      const args = checkArguments(params.arguments);
      const tool = catalogueTools.get(name);
      if (tool) return (await deps.handler.call(tool, args, ctx, req)) as CallToolResult;
      const st = name === APPROVE_TOOL && !req.apps ? undefined : serverTools.get(name);
      if (st) return (await st.run(args, ctx, req)) as CallToolResult;
      throw new MediagenError('NOT_FOUND', `Unknown tool "${shownName(name)}".`);
    } catch (err) {
      // A client's cancel (notifications/cancelled, Ctrl-C at the command line, a closed request) is no failure
      // of ours: info, not error.
      const aborted =
        extra.signal.aborted && (err === extra.signal.reason || (err instanceof Error && err.name === 'AbortError'));
      if (!(err instanceof MediagenError) && aborted)
        deps.logger.info('tool call cancelled: the request was aborted', { tool: shownName(name) });
      else if (!(err instanceof MediagenError))
        deps.logger.error('tool call failed', { tool: shownName(name), error: String(err) });
      return toToolResult(err) as CallToolResult;
    }
  }
  /**
   * A task-augmented tools/call of a job-creating tool: the whole guarded create runs now (consent by
   * elicitation or token, never inside the task afterwards); the job it created is the task. A refused
   * create is a task already failed whose result is the refusal. Other tools refuse task augmentation.
   */
  async function callAsTask(params: CallParams, extra: Extra, t: JobTasks): Promise<CallToolResult> {
    // Only job-creating tools declare task support; any other task-augmented call is refused before it runs.
    const tool = catalogueTools.get(params.name);
    if (!tool?.op.job)
      throw new McpError(
        ErrorCode.MethodNotFound,
        `Tool "${shownName(params.name)}" does not run as a task (no execution.taskSupport); call it without "task".`,
      );
    // A job made with the request's own key (--byok) is polled only with that key, and a task's later
    // requests (tasks/get, tasks/result) need not carry it: refused before anything is reserved or sent.
    if (requestKey(tool.catalogue.provider) !== undefined)
      throw new McpError(
        ErrorCode.InvalidParams,
        `Tool "${shownName(params.name)}" would run with your own key (X-Mediagen-Key-${tool.catalogue.provider}), and a task's later polls carry no key: call it without "task" and follow the job with jobs_wait, sending the same header. Nothing was sent or charged.`,
      );
    const result = await callTool(params, extra);
    const ctx = { signal: extra.signal, principal: deps.principal, callerId: callerOf(extra) };
    const jobId = result.structuredContent?.job_id;
    const task =
      !result.isError && typeof jobId === 'string'
        ? await t.created(jobId, ctx)
        : t.refuse(result as ToolResult, deps.principal);
    const text = result.content.find((c) => c.type === 'text');
    const immediate = text?.type === 'text' ? { 'io.modelcontextprotocol/model-immediate-response': text.text } : {};
    return { task, _meta: immediate } as unknown as CallToolResult;
  }
  return { server, drain };
}
