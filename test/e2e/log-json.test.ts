/**
 * --log-format json: the built server writes one JSON object per line on stderr, with time, level and
 * message, and the request's context where known (request id, principal, tool, job, price). The redactor
 * runs on the whole line: the configured key and a request's own key (--byok) never appear, even when the
 * provider echoes them into answers that are logged.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { phayaEnv, sc, T2I } from '../helpers/money.js';
import { spawnStdio } from '../helpers/stdio.js';
import { CLI } from '../helpers/paths.js';

const SECRET = 'sk-live-7a6b5c4d3e2f1a0b-CONFIGURED';
// '!' and '~' are outside the bearer/key-shaped patterns: only the request's own redaction hides it.
const OWN_KEY = `own!key~${Math.random().toString(36).slice(2)}!77`;

let sandbox: Sandbox | undefined;
let server: HttpServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  await sandbox?.close();
  server = sandbox = undefined;
});

type Line = Record<string, unknown>;

/** Every stderr line, each of which must be one JSON object with time, level and message. */
function jsonLines(stderr: string): Line[] {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  expect(lines.length).toBeGreaterThan(3);
  return lines.map((l) => {
    let parsed: unknown;
    expect(() => (parsed = JSON.parse(l)), l).not.toThrow();
    const line = parsed as Line;
    expect(line).toEqual(expect.objectContaining({ level: expect.any(String), message: expect.any(String) }));
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
    return line;
  });
}

async function connect(url: string, headers: Record<string, string>) {
  const client = new Client({ name: 'log-json', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return {
    call: async (name: string, a: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: a })) as CallToolResult,
    close: () => client.close(),
  };
}

describe('--log-format json', () => {
  it('over HTTP: JSON lines with request id, principal, tool, job and price; the configured key never appears', async () => {
    sandbox = await startSandbox({ key: SECRET, echoKey: true, pollsToComplete: 2 });
    const dir = tempDir();
    const { file, tokens } = writeTokens(dir, { alice: {} });
    server = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir }), [
      '--tokens-file',
      file,
      '--log-format',
      'json',
    ]);
    const mcp = await connect(server.url, { Authorization: `Bearer ${tokens.alice}` });
    let jobId = '';
    try {
      const created = await mcp.call(T2I, { prompt: 'a lantern' });
      jobId = String(sc(created).job_id);
      expect(sc(await mcp.call(T2I, { prompt: 'a lantern sandbox:5xx' })).code).toBe('OUTCOME_UNKNOWN');
      await mcp.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: 10 });
    } finally {
      await mcp.close();
    }
    await server.stop();
    const stderr = server.stderr();
    expect(stderr).not.toContain(SECRET);
    const lines = jsonLines(stderr);
    const job = lines.find((l) => l.message === 'job created');
    expect(job).toEqual(
      expect.objectContaining({
        level: 'info',
        principal: 'alice',
        tool: T2I,
        job: jobId,
        price: '1 credits',
        request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      }),
    );
    const unknown = lines.find((l) => String(l.message).startsWith('paid request outcome unknown'));
    expect(unknown).toEqual(
      expect.objectContaining({ level: 'warn', principal: 'alice', tool: T2I, price: '1 credits' }),
    );
    expect(unknown?.request_id).not.toBe(job?.request_id);
  });

  it("a request's own key (--byok) never appears in a JSON line", async () => {
    sandbox = await startSandbox({ key: OWN_KEY, echoKey: true });
    const dir = tempDir();
    const { file, tokens } = writeTokens(dir, { alice: {} });
    server = await spawnHttp(
      phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir, PHAYA_API_KEY: SECRET, MEDIAGEN_LOG_FORMAT: 'json' }),
      ['--tokens-file', file, '--byok'],
    );
    const mcp = await connect(server.url, { Authorization: `Bearer ${tokens.alice}`, 'X-Mediagen-Key-Phaya': OWN_KEY });
    try {
      expect(sc(await mcp.call(T2I, { prompt: 'a lantern' })).job_id).toEqual(expect.any(String));
      await mcp.call(T2I, { prompt: 'a lantern sandbox:badparams' });
    } finally {
      await mcp.close();
    }
    await server.stop();
    const stderr = server.stderr();
    expect(stderr).not.toContain(OWN_KEY);
    expect(stderr).not.toContain(SECRET);
    expect(jsonLines(stderr).some((l) => l.message === 'job created' && l.principal === 'alice')).toBe(true);
  });

  it('over stdio too; text stays the default', async () => {
    sandbox = await startSandbox({ key: SECRET });
    const json = await spawnStdio(phayaEnv(sandbox, { PHAYA_API_KEY: SECRET }), ['--log-format', 'json']);
    try {
      await json.call(T2I, { prompt: 'a kite' });
    } finally {
      await json.close();
    }
    const lines = jsonLines(json.stderr());
    expect(lines.find((l) => l.message === 'job created')).toEqual(
      expect.objectContaining({ principal: 'local', tool: T2I, price: '1 credits', request_id: expect.any(String) }),
    );
    const text = await spawnStdio(phayaEnv(sandbox, { PHAYA_API_KEY: SECRET }));
    await text.close();
    expect(text.stderr()).toMatch(/^\[mediagen-mcp\] info: serving \d+ tools over stdio/m);
  });
});

/** Run the CLI to its exit: its code, stdout and stderr. */
async function run(args: string[], env: Record<string, string> = {}) {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return { code, out, err };
}

describe('--log-format json at a failed start', () => {
  it('a bad catalogue path, an unreachable store and a bad setting: only JSON lines, the last one the error', async () => {
    const cases: { args: string[]; env?: Record<string, string>; code: number; says: RegExp }[] = [
      { args: ['--catalogue', '/nonexistent/cat.json'], code: 2, says: /nonexistent\/cat\.json/ },
      {
        args: [],
        env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', MEDIAGEN_STORE_START_SECONDS: '0' },
        code: 1,
        says: /^fatal: /,
      },
      { args: ['--metrics-port', '0', '--metrics-host', '0.0.0.0'], code: 2, says: /loopback address only/ },
    ];
    for (const c of cases)
      for (const how of ['flag', 'env'] as const) {
        const args = how === 'flag' ? ['--log-format', 'json', ...c.args] : c.args;
        const env = how === 'env' ? { ...c.env, MEDIAGEN_LOG_FORMAT: 'json' } : (c.env ?? {});
        const { code, out, err } = await run(args, env);
        expect(code, err).toBe(c.code);
        expect(out).toBe('');
        const lines = err.split('\n').filter((l) => l.length > 0);
        expect(lines.length).toBeGreaterThan(0);
        const parsed = lines.map((l) => {
          let v: unknown;
          expect(() => (v = JSON.parse(l)), l).not.toThrow();
          return v as Line;
        });
        const last = parsed[parsed.length - 1];
        expect(last.level).toBe('error');
        expect(String(last.message)).toMatch(c.says);
      }
  });
});
