/** One tools/call sent as a raw JSON-RPC line to a fresh stdio server (for requests no SDK client builds). */
import { spawn } from 'node:child_process';
import { CLI, freshStateDir } from './paths.js';

export interface RawResult {
  result: { isError?: boolean; structuredContent?: Record<string, unknown>; content?: unknown[] };
  stderr: string;
}

export async function rawCall(env: Record<string, string>, name: string, argsJson: string): Promise<RawResult> {
  const child = spawn(process.execPath, [CLI], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: freshStateDir(), ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.on('error', () => undefined);
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  child.stdin.write(JSON.stringify(init) + '\n' + '{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  child.stdin.write(
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":${argsJson}}}\n`,
  );
  const deadline = Date.now() + 20_000;
  let line: string | undefined;
  while (!(line = out.split('\n').find((l) => l.includes('"id":1'))) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  child.stdin.end();
  await new Promise((r) => child.on('exit', r));
  if (!line) throw new Error(`no answer; stderr: ${err.slice(0, 500)}`);
  const msg = JSON.parse(line) as { result?: RawResult['result']; error?: unknown };
  if (!msg.result) throw new Error(`JSON-RPC error instead of a tool result: ${JSON.stringify(msg.error)}`);
  return { result: msg.result, stderr: err };
}
