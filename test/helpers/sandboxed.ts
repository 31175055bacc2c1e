/** A real SDK Client on an in-memory server whose providers all point at a fresh sandbox. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { App } from '../../src/app.js';
import { connectInMemory } from './in-memory.js';

export type ListedSchema = { properties?: Record<string, object>; required?: string[] };

export interface Sandboxed {
  sandbox: Sandbox;
  client: Client;
  app: App;
  /** Listed input schemas by tool name. */
  schemas: Map<string, ListedSchema>;
  close(): Promise<void>;
}

export async function sandboxed(
  argv: string[],
  env: Record<string, string> = {},
  sandboxOptions: Parameters<typeof startSandbox>[0] = {},
): Promise<Sandboxed> {
  const sandbox = await startSandbox(sandboxOptions);
  const c = await connectInMemory(argv, env, { baseUrl: (p, d) => sandbox.baseUrl(p, d), key: sandbox.key });
  const schemas = new Map<string, ListedSchema>();
  for (const t of (await c.client.listTools()).tools) schemas.set(t.name, t.inputSchema);
  return {
    sandbox,
    client: c.client,
    app: c.app,
    schemas,
    close: async () => {
      await c.close();
      await sandbox.close();
    },
  };
}

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** Call a tool; when it asks for consent, call again with the token (the user approved). */
export async function callConfirmed(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const first = await callTool(client, name, args);
  const token = (first.structuredContent as { confirm_token?: string } | undefined)?.confirm_token;
  return token ? callTool(client, name, { ...args, confirm_token: token }) : first;
}
