/**
 * `call --wait --json` through a store outage (PostgreSQL behind a TCP proxy the test cuts while the CLI
 * waits): a failed read never ends the wait without the job id. Past the bound
 * (MEDIAGEN_WAIT_STORE_SECONDS) stdout still carries the job id and how to resume, the exit code is 5, and
 * the provider got exactly one create.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, T2I, T2I_PATH, until } from '../helpers/money.js';
import { CLI } from '../helpers/paths.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { tempDir } from '../helpers/in-memory.js';
import { startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { runPiped } from '../helpers/terminal.js';

requirePg('call --wait through a store outage');
let sandbox: Sandbox;
let db: { url: string; drop: () => Promise<void> } | undefined;
let proxy: TcpProxy | undefined;

beforeAll(async () => {
  if (!HAS_PG) return;
  sandbox = await startSandbox({ pollsToComplete: 40 });
  db = await freshDatabase();
  const u = new URL(db.url);
  proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
}, 30_000);
afterAll(async () => {
  await proxy?.close();
  await db?.drop();
  await sandbox?.close();
});

const polls = (): number => sandbox.stats().requests.filter((r) => r.method === 'GET').length;

describe.runIf(HAS_PG)('call --wait --json while the store is cut', () => {
  it('past the bound: the job id and how to resume on stdout, exit 5, one create', async () => {
    proxy!.mend();
    const env = phayaEnv(sandbox, { DATABASE_URL: viaProxy(db!.url, proxy!), MEDIAGEN_WAIT_STORE_SECONDS: '3' });
    const before = hits(sandbox, T2I_PATH);
    const polled = polls();
    const ran = runPiped(['call', T2I, 'prompt=a lantern', '--wait', '--json'], env);
    await until(() => polls() > polled, 20_000); // the job exists and is being waited for
    proxy!.cut();
    const r = await ran;
    expect(r.code, r.stderr).toBe(5);
    const answer = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(answer).toMatchObject({ code: 'STORE_UNAVAILABLE', created: true });
    expect(answer.job_id).toMatch(/^job_/);
    expect(answer.resume).toBe(`mediagen-mcp jobs wait ${String(answer.job_id)}`);
    expect(r.stderr).toContain(`Job ${String(answer.job_id)} was created (it may be charged); resume with:`);
    expect(hits(sandbox, T2I_PATH)).toBe(before + 1);
  }, 60_000);
});

describe('a command waiting at start for an unreachable PostgreSQL', () => {
  it('SIGTERM stops the start-up retry: the command leaves (143) long before its 60 s bound', async () => {
    const gone = await startTcpProxy('127.0.0.1', 9); // nothing behind it, and then not even the proxy
    const port = gone.port;
    await gone.close();
    const child = spawn(process.execPath, [CLI, 'jobs', 'list'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none`,
        MEDIAGEN_STORE_START_SECONDS: '60',
        MEDIAGEN_STATE_DIR: tempDir(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => /unavailable at start; trying again/.test(stderr), 15_000);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => resolve(-1), 20_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    if (code === -1) child.kill('SIGKILL');
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/stopped \(SIGTERM\) while waiting for the shared store/);
  }, 40_000);
});
