import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultStateDir, openStore, SQLITE_FILE } from '../../src/store/open.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { openDatabase } from '../../src/store/sqlite-driver.js';
import { MIGRATIONS } from '../../src/store/sqlite-schema.js';
import { storeContract } from './contract.js';
import { makeJob, makeReserve, T0 } from './contract-fixtures.js';

const dirs: string[] = [];

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mediagen-store-'));
  dirs.push(dir);
  return dir;
}

async function removeDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

let stateDir = '';
storeContract(
  'sqlite',
  async () => openStore({ stateDir: (stateDir = join(await freshDir(), 'state')) }),
  removeDirs,
  () => openStore({ stateDir }),
);

describe('SqliteStore (SQLite specifics)', () => {
  afterEach(removeDirs);

  it('creates the state folder with mode 0700 and the database file inside it', async () => {
    const stateDir = join(await freshDir(), 'nested', 'state');
    const store = await openStore({ stateDir });
    await store.close();
    expect(store.kind).toBe('sqlite');
    expect((await stat(join(stateDir, SQLITE_FILE))).isFile()).toBe(true);
    if (process.platform !== 'win32') expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
  });

  it('keeps every kind of record across a restart', async () => {
    const file = join(await freshDir(), 'db.sqlite');
    const first = SqliteStore.open(file);
    const job = makeJob({ id: 'job_1', outputs: [{ url: 'https://x/1.png', kind: 'image' }] });
    await first.insertJob(job);
    const res = await first.reserve(makeReserve({ id: 'res-1', credits: 2.5, dayCap: 3 }));
    expect(res.ok).toBe(true);
    await first.putToken({
      tokenHash: 't1',
      tool: 'acme_image',
      argsHash: 'h',
      callerId: 'c',
      createdAt: T0,
      expiresAt: T0 + 1000,
    });
    await first.putToken({
      tokenHash: 't2',
      tool: 'acme_image',
      argsHash: 'h',
      callerId: 'c',
      createdAt: T0,
      expiresAt: T0 + 1000,
    });
    expect(await first.consumeToken('t1', 'acme_image', 'h', 'c', T0)).toBe('ok');
    await first.claimIdempotency('k1', 'acme_image', 'h', T0);
    await first.close();

    const second = SqliteStore.open(file);
    expect(await second.getJob('job_1')).toEqual(job);
    expect((await second.listJobs({ limit: 10 })).jobs).toHaveLength(1);
    expect(await second.reserve(makeReserve({ credits: 1, dayCap: 3 }))).toEqual({
      ok: false,
      scope: 'day',
      cap: 3,
      used: 2.5,
    });
    expect(await second.consumeToken('t1', 'acme_image', 'h', 'c', T0)).toBe('used');
    expect(await second.consumeToken('t2', 'acme_image', 'h', 'c', T0)).toBe('ok');
    expect((await second.claimIdempotency('k1', 'acme_image', 'h', T0 + 1)).state).toBe('existing');
    await second.close();
  });

  it('records migrations once and does not re-apply them on reopen', async () => {
    const file = join(await freshDir(), 'db.sqlite');
    await SqliteStore.open(file).close();
    const read = (): { version: number; applied_at: number }[] => {
      const db = openDatabase(file, { readonly: true });
      try {
        return db
          .prepare<{ version: number; applied_at: number }>(
            'SELECT version, applied_at FROM schema_migrations ORDER BY version',
          )
          .all();
      } finally {
        db.close();
      }
    };
    const before = read();
    expect(before.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    await new Promise((r) => setTimeout(r, 5));
    const again = SqliteStore.open(file); // would throw "table jobs already exists" if re-applied
    await again.insertJob(makeJob({ id: 'job_1' }));
    await again.close();
    expect(read()).toEqual(before);
  });

  it('migration 5 opens a database that already has duplicated provider job ids: the oldest stays the job', async () => {
    const file = join(await freshDir(), 'db.sqlite');
    const db = openDatabase(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)');
    MIGRATIONS.slice(0, 4).forEach((sql, i) => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(i + 1, 0);
    });
    const insert = db.prepare(
      `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal, status,
         outputs, created_at, updated_at) VALUES (?, 'acme', 'acme_image', ?, 'h', '{}', NULL, 'c', ?, 'pending', '[]', ?, ?)`,
    );
    // Adopted three times before the rule (by alice, then bob, then alice again), and one job of its own.
    insert.run('job_b', 'pj-dup', 'bob', T0 + 10, T0 + 10);
    insert.run('job_a', 'pj-dup', 'alice', T0, T0);
    insert.run('job_c', 'pj-dup', 'alice', T0 + 10, T0 + 10);
    insert.run('job_solo', 'pj-solo', 'carol', T0, T0);
    db.close();
    const store = SqliteStore.open(file);
    try {
      expect((await store.jobByProviderId('acme', 'pj-dup'))?.id).toBe('job_a');
      expect((await store.jobByProviderId('acme', 'pj-solo'))?.id).toBe('job_solo');
      // Every row is kept (the ledger is never deleted); from now on the id is one job.
      for (const id of ['job_a', 'job_b', 'job_c']) expect((await store.getJob(id))?.providerJobId).toBe('pj-dup');
      await expect(store.insertJob(makeJob({ id: 'job_d', providerJobId: 'pj-dup' }))).rejects.toThrow();
      await expect(store.insertJob(makeJob({ id: 'job_e', providerJobId: 'pj-solo' }))).rejects.toThrow();
      await store.insertJob(makeJob({ id: 'job_f', providerJobId: 'pj-new' }));
    } finally {
      await store.close();
    }
  });

  it('migration 6 opens a database with open and final jobs: the open ones are due at once, the final ones never', async () => {
    const file = join(await freshDir(), 'db.sqlite');
    const db = openDatabase(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)');
    MIGRATIONS.slice(0, 5).forEach((sql, i) => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(i + 1, 0);
    });
    const insert = db.prepare(
      `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal, status,
         outputs, created_at, updated_at) VALUES (?, 'acme', 'acme_image', ?, 'h', '{}', NULL, 'c', 'local', ?, '[]', ?, ?)`,
    );
    insert.run('job_pending', 'pj-1', 'pending', T0 + 2, T0 + 5);
    insert.run('job_running', 'pj-2', 'running', T0 + 1, T0 + 5);
    for (const [i, status] of ['succeeded', 'failed', 'cancelled'].entries()) {
      insert.run(`job_${status}`, `pj-f${i}`, status, T0, T0 + 5);
    }
    db.close();
    const store = SqliteStore.open(file);
    try {
      expect(await store.getJob('job_pending')).toMatchObject({ nextPollAt: T0 + 2, pollErrors: 0, webhookHash: null });
      for (const status of ['succeeded', 'failed', 'cancelled']) {
        expect((await store.getJob(`job_${status}`))?.nextPollAt).toBeNull();
      }
      expect(await store.nextDueAt()).toBe(T0 + 1);
      const leased = await store.leaseDueJobs({ owner: 'w', now: T0 + 10, leaseMs: 1000, limit: 10 });
      expect(leased.map((j) => j.id)).toEqual(['job_running', 'job_pending']);
    } finally {
      await store.close();
    }
    // A row written afterwards by a binary that knows no next_poll_at (a rolling deploy, a stale process on
    // the same file) is due at once, not left for a caller to poll.
    const old = openDatabase(file);
    old
      .prepare(
        `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal, status,
           outputs, created_at, updated_at) VALUES ('job_old', 'acme', 'acme_image', 'pj-9', 'h', '{}', NULL, 'c', 'local', 'pending', '[]', ?, ?)`,
      )
      .run(T0 + 20, T0 + 20);
    old.close();
    const again = SqliteStore.open(file);
    try {
      const leased = await again.leaseDueJobs({ owner: 'w2', now: T0 + 30, leaseMs: 1000, limit: 10 });
      expect(leased.map((j) => j.id)).toContain('job_old');
    } finally {
      await again.close();
    }
  });

  it('refuses a database migrated by a newer version', async () => {
    const file = join(await freshDir(), 'db.sqlite');
    await SqliteStore.open(file).close();
    const db = openDatabase(file);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(MIGRATIONS.length + 1, 0);
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(/newer than this mediagen-mcp supports/);
  });

  it('uses WAL journal mode', async () => {
    const file = join(await freshDir(), 'db.sqlite');
    const store = SqliteStore.open(file);
    const db = openDatabase(file);
    try {
      expect(db.prepare<{ journal_mode: string }>('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    } finally {
      db.close();
      await store.close();
    }
  });

  it('rejects a reservation with negative or non-finite credits', async () => {
    const store = SqliteStore.open(join(await freshDir(), 'db.sqlite'));
    await expect(store.reserve(makeReserve({ credits: -1 }))).rejects.toThrow(/credits/);
    await expect(store.reserve(makeReserve({ credits: Number.NaN }))).rejects.toThrow(/credits/);
    expect(await store.recentSpend(10)).toEqual([]);
    await store.close();
  });
});

describe('defaultStateDir', () => {
  it('uses ~/.local/state on Linux, or XDG_STATE_HOME when set and absolute', () => {
    expect(defaultStateDir({}, 'linux', '/home/u')).toBe('/home/u/.local/state/mediagen-mcp');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 'linux', '/home/u')).toBe('/x/state/mediagen-mcp');
    expect(defaultStateDir({ XDG_STATE_HOME: '' }, 'linux', '/home/u')).toBe('/home/u/.local/state/mediagen-mcp');
    expect(defaultStateDir({ XDG_STATE_HOME: 'rel/state' }, 'linux', '/home/u')).toBe(
      '/home/u/.local/state/mediagen-mcp',
    );
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 'freebsd', '/home/u')).toBe('/x/state/mediagen-mcp');
  });

  it('uses ~/Library/Application Support on macOS (XDG ignored)', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 'darwin', '/Users/u')).toBe(
      '/Users/u/Library/Application Support/mediagen-mcp',
    );
  });

  it('uses %LOCALAPPDATA% on Windows, else ~/AppData/Local', () => {
    expect(defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Local\\mediagen-mcp',
    );
    expect(defaultStateDir({ LocalAppData: 'D:\\Local' }, 'win32', 'C:\\Users\\u')).toBe('D:\\Local\\mediagen-mcp');
    expect(defaultStateDir({}, 'win32', 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Local\\mediagen-mcp');
  });

  it('sandbox mode: the sub-folder sandbox of the same folder, on every platform', () => {
    expect(defaultStateDir({}, 'linux', '/home/u', true)).toBe('/home/u/.local/state/mediagen-mcp/sandbox');
    expect(defaultStateDir({}, 'darwin', '/Users/u', true)).toBe(
      '/Users/u/Library/Application Support/mediagen-mcp/sandbox',
    );
    expect(defaultStateDir({ LOCALAPPDATA: 'D:\\Local' }, 'win32', 'C:\\Users\\u', true)).toBe(
      'D:\\Local\\mediagen-mcp\\sandbox',
    );
  });

  it('defaults to this platform and home folder', () => {
    expect(defaultStateDir({})).toContain('mediagen-mcp');
  });
});
