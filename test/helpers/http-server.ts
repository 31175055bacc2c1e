/** Spawn the built server over Streamable HTTP and connect real SDK Clients to it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { sha256Hex } from '../../src/principals.js';
import { CLI, freshStateDir } from './paths.js';

export interface HttpServerProcess {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Start `mediagen-mcp --transport http --port 0 ...args` and wait for its "serving ... on URL" line. */
export async function spawnHttp(env: Record<string, string>, args: string[] = []): Promise<HttpServerProcess> {
  const proc = spawn(process.execPath, [CLI, '--transport', 'http', '--port', '0', ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_LOG_LEVEL: 'debug', MEDIAGEN_STATE_DIR: freshStateDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /Streamable HTTP on (http:\/\/\S+\/mcp)/.exec(err);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${err}`)));
  });
  return {
    url,
    proc,
    stderr: () => err,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface HttpClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/** A real SDK Client over Streamable HTTP, with a bearer token when given. */
export async function connectHttp(url: string, token?: string): Promise<HttpClient> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
  });
  const client = new Client({ name: 'http-e2e', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    call: async (name, a = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult,
    close: () => client.close(),
  };
}

/** Write a tokens file for `principals` (id -> settings); returns the file and each principal's token. */
export function writeTokens(
  dir: string,
  principals: Record<string, Record<string, unknown>>,
): { file: string; tokens: Record<string, string> } {
  const tokens: Record<string, string> = {};
  const list = Object.entries(principals).map(([id, settings]) => {
    tokens[id] = `test-token-${id}-${Math.random().toString(36).slice(2)}`;
    return { id, tokenSha256: [sha256Hex(tokens[id])], ...settings };
  });
  const file = join(dir, 'tokens.json');
  writeFileSync(file, JSON.stringify({ version: 1, principals: list }));
  return { file, tokens };
}

/** A raw JSON-RPC initialize body. */
export const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** Headers a Streamable HTTP POST needs. */
export const MCP_HEADERS = { Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' };
