/**
 * Stopping while a paid create hangs at the provider (it receives the request and never answers): the
 * process exits within its drain deadline plus a bounded close, whatever the provider does, and the
 * reservation is left uncertain with the idempotency key bound (a retry sends nothing). stdio and HTTP.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { connectHttp, spawnHttp } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { freshDatabase, HAS_PG } from '../helpers/pg.js';
import pg from 'pg';
import { sc, totals, until } from '../helpers/money.js';
import { ACME_FILE, CLI } from '../helpers/paths.js';
import { spawnStdio, text } from '../helpers/stdio.js';

const DRAIN_S = 2;
/** Generous: drain + 15 s. The point is that it exits at all while the provider never answers. */
const EXIT_BOUND_MS = (DRAIN_S + 15) * 1000;
const CREATE = '/image/fast/create';
let hostile: HostileProvider;

beforeAll(async () => {
  hostile = await startHostileProvider();
  hostile.hangCreates(true);
});
afterAll(async () => hostile?.close());

const env = (stateDir: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  ACME_API_KEY: ACME_KEY,
  ACME_BASE_URL: hostile.url,
  MEDIAGEN_STATE_DIR: stateDir,
  MEDIAGEN_DRAIN_SECONDS: String(DRAIN_S),
  // The provider's own deadline is far away: only the shutdown bound can end the request.
  MEDIAGEN_HTTP_TIMEOUT_MS: '600000',
  MEDIAGEN_LOG_LEVEL: 'debug',
});

function exitedWithin(exited: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function expectUncertain(stateDir: string, key: string): Promise<void> {
  hostile.hangCreates(false);
  const s = await spawnStdio(env(stateDir), ['--catalogue', ACME_FILE]);
  try {
    expect(totals(await s.call('spend_report'), 'acme')).toMatchObject({ uncertain: 4, committed: 0 });
    const before = hostile.hits(CREATE);
    const retry = (await s.call('acme_image_create', {
      prompt: 'a hung boat',
      idempotency_key: key,
    })) as CallToolResult;
    expect(sc(retry).code, text(retry)).toBe('OUTCOME_UNKNOWN');
    expect(hostile.hits(CREATE)).toBe(before);
  } finally {
    await s.close();
    hostile.hangCreates(true);
  }
}

describe('shutdown with a create the provider never answers', () => {
  it('stdio, SIGTERM: exits within drain + a bounded close; the reservation is left uncertain', async () => {
    const stateDir = tempDir();
    const child = spawn(process.execPath, [CLI, '--catalogue', ACME_FILE], { env: env(stateDir) });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.resume();
    child.stdin.on('error', () => undefined);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const send = (m: object) => child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
    send({
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    send({ method: 'notifications/initialized' });
    const before = hostile.hits(CREATE);
    const key = 'hung-stdio-key-01';
    send({
      id: 1,
      method: 'tools/call',
      params: { name: 'acme_image_create', arguments: { prompt: 'a hung boat', idempotency_key: key } },
    });
    send({
      id: 2,
      method: 'tools/call',
      params: { name: 'acme_image_create', arguments: { prompt: 'another hung boat' } },
    });
    await until(() => hostile.hits(CREATE) === before + 2);
    child.kill('SIGTERM');
    const ok = await exitedWithin(exited, EXIT_BOUND_MS);
    if (!ok) child.kill('SIGKILL');
    expect(ok, err).toBe(true);
    expect(await exited).toBe(0);
    expect(err).toMatch(/left uncertain/);
    await expectUncertain(stateDir, key);
  });

  it.each([[[]], [['--stateless']]])(
    'HTTP %j, SIGTERM: exits within drain + a bounded close; left uncertain',
    async (extra) => {
      const stateDir = tempDir();
      const e = env(stateDir);
      const http = await spawnHttp(e, ['--catalogue', ACME_FILE, ...extra]);
      const c = await connectHttp(http.url);
      const before = hostile.hits(CREATE);
      const key = 'hung-http-key-001';
      const calls = [
        c.call('acme_image_create', { prompt: 'a hung boat', idempotency_key: key }).catch((x: unknown) => x),
        c.call('acme_image_create', { prompt: 'another hung boat' }).catch((x: unknown) => x),
      ];
      await until(() => hostile.hits(CREATE) === before + 2);
      http.proc.kill('SIGTERM');
      const ok = await exitedWithin(http.exited, EXIT_BOUND_MS);
      if (!ok) http.proc.kill('SIGKILL');
      expect(ok, http.stderr()).toBe(true);
      void calls;
      await c.close().catch(() => undefined);
      expect(http.stderr()).toMatch(/left uncertain/);
      await expectUncertain(stateDir, key);
    },
  );
});

describe.runIf(HAS_PG)('on PostgreSQL, with the store hung as well', () => {
  it('HTTP stateless, SIGTERM while another client holds the reservation rows locked: still exits in bounded time', async () => {
    const db = await freshDatabase();
    const locker = new pg.Client({ connectionString: db.url });
    try {
      const stateDir = tempDir();
      const e = env(stateDir);
      const http = await spawnHttp({ ...e, DATABASE_URL: db.url }, ['--catalogue', ACME_FILE, '--stateless']);
      const c = await connectHttp(http.url);
      const before = hostile.hits(CREATE);
      for (let i = 0; i < 2; i++)
        void c.call('acme_image_create', { prompt: `hung ${i}`, idempotency_key: `hung-pg-key-00${i}` }).catch(() => 0);
      await until(() => hostile.hits(CREATE) === before + 2);
      // Another session holds the rows the shutdown must update: its UPDATE waits, with no end of its own.
      await locker.connect();
      await locker.query('BEGIN');
      const held = await locker.query('SELECT id FROM reservations FOR UPDATE');
      expect(held.rowCount).toBe(2);
      http.proc.kill('SIGTERM');
      const ok = await exitedWithin(http.exited, EXIT_BOUND_MS);
      if (!ok) http.proc.kill('SIGKILL');
      expect(ok, http.stderr()).toBe(true);
      expect(http.stderr()).toMatch(/did not record the paid requests still unanswered[^\n]*stay reserved/);
      await c.close().catch(() => undefined);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end().catch(() => undefined);
      await db.drop();
    }
  });
});
