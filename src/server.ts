/**
 * createServer(deps) -> an MCP Server with every registered tool. No transport, no process side effects.
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MediagenError, toToolResult } from './errors.js';
import type { Logger } from './log.js';
import type { JsonSchema, ToolAnnotations, ToolSpec } from './tools/build.js';
import type { CallContext, RequestTools, ServerTool, ToolHandler } from './tools/handler.js';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface ServerDeps {
  tools: readonly ToolSpec[];
  handler: ToolHandler;
  serverTools?: readonly ServerTool[];
  logger: Logger;
  /** Caller id when the transport has no session (stdio: one per process). */
  defaultCallerId?: string;
}

function listing(t: {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchema;
  annotations: ToolAnnotations;
}) {
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema,
    annotations: t.annotations,
  };
}

export interface MediagenServer {
  server: Server;
  /** Resolves when no tool call is in flight (or after timeoutMs). */
  drain(timeoutMs?: number): Promise<void>;
}

export function createServer(deps: ServerDeps): MediagenServer {
  const server = new Server(
    { name: 'mediagen-mcp', title: 'Media generation (mediagen-mcp)', version: VERSION },
    {
      capabilities: { tools: { listChanged: false }, logging: {} },
      instructions:
        "Media generation tools spend the user's credits; each paid tool's description ends with its price. " +
        'When a call returns CONFIRMATION_REQUIRED, show the price to the user and ask; never confirm on their ' +
        'behalf. If they approve, repeat the call with the same arguments plus the confirm_token it returned ' +
        '(single use, short-lived). Paid tools also accept idempotency_key (8-128 characters): repeating a call with the same key ' +
        'returns the job already created instead of paying twice. Generation is asynchronous: a create call ' +
        'returns a job_id; call jobs_wait (again if it says the job is still running) to get result URLs.',
    },
  );
  const catalogueTools = new Map(deps.tools.map((t) => [t.name, t]));
  const serverTools = new Map((deps.serverTools ?? []).map((t) => [t.name, t]));
  const fallbackCaller = deps.defaultCallerId ?? `process:${randomUUID()}`;
  const listed = [...deps.tools.map(listing), ...(deps.serverTools ?? []).map(listing)];

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
    // Let the SDK write the answers of the calls that just settled before the transport closes.
    await new Promise((r) => setImmediate(r));
  };

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));

  server.setRequestHandler(CallToolRequestSchema, (request, extra): Promise<CallToolResult> => {
    const run = callTool(request.params, extra);
    inflight.add(run);
    return run.finally(() => inflight.delete(run));
  });

  type CallParams = { name: string; arguments?: Record<string, unknown>; _meta?: { progressToken?: string | number } };
  type Extra = Parameters<Parameters<typeof server.setRequestHandler<typeof CallToolRequestSchema>>[1]>[1];

  async function callTool(params: CallParams, extra: Extra): Promise<CallToolResult> {
    const { name, arguments: args } = params;
    const ctx: CallContext = { signal: extra.signal, callerId: extra.sessionId ?? fallbackCaller };
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
      elicit: server.getClientCapabilities()?.elicitation
        ? async (message, schema) =>
            server.elicitInput({ message, requestedSchema: schema as never }, { signal: extra.signal })
        : undefined,
    };
    try {
      const tool = catalogueTools.get(name);
      if (tool) return (await deps.handler.call(tool, args, ctx, req)) as CallToolResult;
      const st = serverTools.get(name);
      if (st) return (await st.run(args ?? {}, ctx, req)) as CallToolResult;
      throw new MediagenError('NOT_FOUND', `Unknown tool "${name}".`);
    } catch (err) {
      if (!(err instanceof MediagenError)) deps.logger.error('tool call failed', { tool: name, error: String(err) });
      return toToolResult(err) as CallToolResult;
    }
  }
  return { server, drain };
}
