/**
 * In-process transport for the command line: a real SDK Client linked to the real server over the SDK's
 * in-memory transport, so a terminal command takes exactly the path an MCP client's call takes
 * (validation, cost guard, consent, ledger, redaction). Consent arrives as form elicitation, answered by
 * `approve` (the person at the terminal) when one is given; without it the client declares no elicitation
 * and the server answers CONFIRMATION_REQUIRED with a consent token, as it does for any such client.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { MediagenServer } from '../server.js';
import type { JsonSchema, ToolAnnotations } from '../tools/build.js';
import type { ToolResult } from '../tools/handler.js';

export interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  annotations?: ToolAnnotations;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** notifications/progress of this call (jobs_wait sends them while it polls). */
  onProgress?: (progress: number, total: number | undefined, message: string | undefined) => void;
}

export interface LocalSession {
  listTools(): Promise<ListedTool[]>;
  call(name: string, args: Record<string, unknown>, opts?: CallOptions): Promise<ToolResult>;
  close(): Promise<void>;
}

/** Ask the person: true = approve. Given the approval form's message; `signal` aborts when the server gives up. */
export type Approve = (message: string, signal: AbortSignal) => Promise<boolean>;

/** A call may wait for a person's answer and for a job: no client-side timeout shorter than that. */
const CALL_TIMEOUT_MS = 15 * 60_000;

export async function connectInProcess(mcp: MediagenServer, approve?: Approve): Promise<LocalSession> {
  const client = new Client(
    { name: 'mediagen-mcp-cli', version: '1.0.0' },
    { capabilities: approve ? { elicitation: { form: {} } } : {} },
  );
  if (approve) {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      const ok = await approve(request.params.message, extra.signal);
      return ok ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
    });
  }
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([mcp.server.connect(a), client.connect(b)]);
  return {
    listTools: async () => {
      const out: ListedTool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        out.push(...(page.tools as ListedTool[]));
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    },
    call: async (name, args, opts = {}) => {
      const onprogress = opts.onProgress;
      const result = (await client.callTool({ name, arguments: args }, undefined, {
        signal: opts.signal,
        timeout: CALL_TIMEOUT_MS,
        ...(onprogress
          ? { onprogress: (p) => onprogress(p.progress, p.total, p.message), resetTimeoutOnProgress: true }
          : {}),
      })) as CallToolResult;
      return result as ToolResult;
    },
    close: async () => {
      await client.close();
      await mcp.server.close();
    },
  };
}
