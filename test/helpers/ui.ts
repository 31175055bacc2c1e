/** Spawn the built `mediagen-mcp ui` and read the address it prints on stderr. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, freshStateDir } from './paths.js';

export interface UiProcess {
  /** `http://127.0.0.1:<port>/<token>/` */
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  stderr: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export async function spawnUi(env: Record<string, string>, args: string[] = []): Promise<UiProcess> {
  const proc = spawn(process.execPath, [CLI, 'ui', ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: freshStateDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /mediagen-mcp ui: open (http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]+\/) /.exec(err);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`ui exited (${code}) before listening:\n${err}`)));
  });
  const u = new URL(url);
  if (out) throw new Error(`ui wrote to stdout: ${out}`);
  return {
    url,
    port: Number(u.port),
    token: u.pathname.split('/')[1],
    proc,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A real SDK Client on the page's MCP endpoint. */
export async function connectUi(ui: UiProcess): Promise<Client> {
  const client = new Client({ name: 'ui-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${ui.url}mcp`)));
  return client;
}

/** A raw GET (or POST) with exactly these headers, Host included (fetch cannot set Host). */
export function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
