import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, freshStateDir } from './paths.js';

export interface StdioServer {
  client: Client;
  /** The server process id (for kill tests). */
  pid: number | null;
  stderr: () => string;
  call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/**
 * Spawn the built server (dist/cli.js, or another entry such as an unpacked bundle's) with this Node and
 * connect a real SDK Client over stdio.
 */
export async function spawnStdio(
  env: Record<string, string>,
  args: string[] = [],
  clientOptions: ConstructorParameters<typeof Client>[1] = {},
  entry: string = CLI,
): Promise<StdioServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, ...args],
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_LOG_LEVEL: 'debug', MEDIAGEN_STATE_DIR: freshStateDir(), ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'e2e', version: '1.0.0' }, clientOptions);
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    stderr: () => err,
    call: async (name, a = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult,
    close: () => client.close(),
  };
}

export function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}
