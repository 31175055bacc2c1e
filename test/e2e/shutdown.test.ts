/**
 * Stopping with a paid create in flight: SIGTERM, stdin closed, or the transport lost to an over-size
 * line. The process stops within its drain deadline, says what it left uncertain, and a second server on
 * the same state folder neither loses the job nor pays twice.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH, totals, until } from '../helpers/money.js';
import { CLI } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ slowMs: 8_000 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  sandbox.reset();
});

/** A server driven with raw JSON-RPC lines (so the test can also send what no SDK client would). */
function raw(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  send: (msg: object) => void;
  stderr: () => string;
  exit: Promise<{ code: number | null; ms: number }>;
  exitedAt: () => number;
} {
  const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', ...env } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  child.stdin.on('error', () => undefined); // EPIPE once the server has closed its stdin
  let stoppedAt = 0;
  const exit = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, ms: Date.now() - stoppedAt })),
  );
  const send = (msg: object): void => void child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');
  send({
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  send({ method: 'notifications/initialized' });
  return {
    child,
    send,
    stderr: () => err,
    exit,
    exitedAt: () => (stoppedAt = Date.now()),
  };
}

const createCall = (key: string) => ({
  id: 1,
  method: 'tools/call',
  params: { name: T2I, arguments: { prompt: 'a lantern sandbox:late', idempotency_key: key } },
});

async function secondServer(stateDir: string): Promise<StdioServer> {
  const s = await spawnStdio(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: stateDir }));
  servers.push(s);
  return s;
}

describe('shutdown with a paid create in flight', () => {
  it.each([
    ['SIGTERM', (p: ReturnType<typeof raw>) => p.child.kill('SIGTERM')],
    ['stdin closed', (p: ReturnType<typeof raw>) => p.child.stdin.end()],
  ])('%s: exits within the drain deadline and leaves the reservation uncertain, key bound', async (_w, stop) => {
    const env = phayaEnv(sandbox, { MEDIAGEN_DRAIN_SECONDS: '1', MEDIAGEN_HTTP_TIMEOUT_MS: '20000' });
    const p = raw(env);
    p.send(createCall('shutdown-key-0001'));
    await until(() => hits(sandbox, T2I_PATH) === 1);
    p.exitedAt();
    stop(p);
    const { code, ms } = await p.exit;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(6_000); // drain 1 s + close; the provider would answer only after 8 s
    expect(p.stderr()).toMatch(/left uncertain/);
    expect(p.stderr()).not.toMatch(/fatal|not open|Unhandled/i);

    const s = await secondServer(env.MEDIAGEN_STATE_DIR);
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ uncertain: 1, committed: 0 });
    const retry = await s.call(T2I, { prompt: 'a lantern sandbox:late', idempotency_key: 'shutdown-key-0001' });
    expect(sc(retry).code, text(retry)).toBe('OUTCOME_UNKNOWN');
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });

  it('a line over 10 MB: the transport error is logged, the create in flight is settled, exit code 1', async () => {
    const fast = await startSandbox({ slowMs: 1_500 });
    try {
      const env = phayaEnv(fast, { MEDIAGEN_HTTP_TIMEOUT_MS: '20000' });
      const p = raw(env);
      p.send(createCall('huge-line-key-001'));
      await until(() => hits(fast, T2I_PATH) === 1);
      p.exitedAt();
      p.child.stdin.write('{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"' + 'a'.repeat(11 * 1024 * 1024));
      const { code } = await p.exit;
      expect(code).toBe(1);
      expect(p.stderr()).toMatch(/stdio transport failed: .*ReadBuffer exceeded maximum size/);
      // The create was answered during the drain: the job is in the ledger and the key returns it.
      const s = await spawnStdio(phayaEnv(fast, { MEDIAGEN_STATE_DIR: env.MEDIAGEN_STATE_DIR }));
      servers.push(s);
      const again = await s.call(T2I, { prompt: 'a lantern sandbox:late', idempotency_key: 'huge-line-key-001' });
      expect(again.isError, text(again)).toBeFalsy();
      expect(sc(again).reused).toBe(true);
      expect(hits(fast, T2I_PATH)).toBe(1);
    } finally {
      await fast.close();
    }
  });
});
