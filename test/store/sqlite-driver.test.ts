/**
 * The driver layer under the SQLite store, on a real database file with the runtime's driver: node:sqlite
 * on Node >= 22.13, better-sqlite3 on Node 20. CI runs this file under both (system Node and the npm
 * package's Node 22), so every rule below is pinned for both drivers.
 */
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultDriver,
  explainLoadError,
  isBusy,
  namedParameters,
  openDatabase,
  runtimeHasNodeSqlite,
  type SqlDatabase,
} from '../../src/store/sqlite-driver.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ROOT } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'mediagen-driver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let db: SqlDatabase;

beforeEach(() => {
  db = openDatabase(join(dir, `t${n++}.sqlite`));
  db.exec('CREATE TABLE t (a, b)');
  return () => db.close();
});

describe(`SQLite driver (${defaultDriver()} on Node ${process.versions.node})`, () => {
  it('is node:sqlite exactly when the runtime has it, and loads no native module then', () => {
    expect(runtimeHasNodeSqlite('20.20.2')).toBe(false);
    expect(runtimeHasNodeSqlite('22.12.0')).toBe(false);
    expect(runtimeHasNodeSqlite('22.13.0')).toBe(true);
    expect(runtimeHasNodeSqlite('24.0.0')).toBe(true);
    expect(db.driver).toBe(runtimeHasNodeSqlite() ? 'node:sqlite' : 'better-sqlite3');
    const store = SqliteStore.open(join(dir, 'store.sqlite'));
    expect(store.driver).toBe(db.driver);
    void store.close();
    const report = process.report.getReport() as unknown as { sharedObjects: string[] };
    const native = report.sharedObjects.some((f) => f.endsWith('better_sqlite3.node'));
    expect(native).toBe(db.driver === 'better-sqlite3');
  });

  it('opens without printing anything on stderr (no ExperimentalWarning), other warnings still pass', () => {
    const script =
      `import { openDatabase } from '${ROOT}dist/store/sqlite-driver.js';` +
      `openDatabase(':memory:').close(); process.emitWarning('still here');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/ExperimentalWarning|experimental feature/);
    expect(r.stderr).toMatch(/Warning: still here/);
  });

  it('rejects a named parameter the statement does not have', () => {
    const insert = db.prepare('INSERT INTO t VALUES (@a, @b)');
    expect(() => insert.run({ a: 1, b: 2, c: 3 })).toThrow(/unknown named parameter 'c'/);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
  });

  it('rejects a missing named parameter instead of binding NULL', () => {
    const insert = db.prepare('INSERT INTO t VALUES (@a, @b)');
    expect(() => insert.run({ a: 1 })).toThrow(/missing named parameter 'b'/);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
  });

  it('binds undefined as NULL, named and positional', () => {
    db.prepare('INSERT INTO t VALUES (@a, @b)').run({ a: 1, b: undefined });
    db.prepare('INSERT INTO t VALUES (?, ?)').run(2, undefined);
    expect(db.prepare('SELECT a, b FROM t ORDER BY a').all()).toEqual([
      { a: 1, b: null },
      { a: 2, b: null },
    ]);
  });

  it('uses a named parameter twice and ignores @ inside string literals', () => {
    expect([...namedParameters('SELECT @x, \'@y\', "@z" -- @w\n WHERE @x IS NULL OR :v = $u')]).toEqual([
      'x',
      'v',
      'u',
    ]);
    expect(db.prepare("SELECT @x AS x, '@y' AS y, @x IS NULL AS n").get({ x: null })).toEqual({
      x: null,
      y: '@y',
      n: 1,
    });
  });

  it('returns plain-object rows and numeric changes', () => {
    const r = db.prepare('INSERT INTO t VALUES (?, ?)').run(1, 'x');
    expect(r).toEqual({ changes: 1 });
    expect(typeof r.changes).toBe('number');
    const row = db.prepare('SELECT * FROM t').get();
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(db.prepare('SELECT * FROM t WHERE a = ?').get(99)).toBeUndefined();
    for (const all of db.prepare('SELECT * FROM t').all()) {
      expect(Object.getPrototypeOf(all)).toBe(Object.prototype);
    }
  });

  it('commits an immediate transaction, and rolls it back when the body throws', () => {
    db.immediate(() => db.prepare('INSERT INTO t VALUES (1, 1)').run());
    expect(() =>
      db.immediate(() => {
        db.prepare('INSERT INTO t VALUES (2, 2)').run();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(db.prepare('SELECT a FROM t').all()).toEqual([{ a: 1 }]);
    // the connection is usable again: no transaction was left open
    db.immediate(() => db.prepare('INSERT INTO t VALUES (3, 3)').run());
    expect(() => db.immediate(() => db.immediate(() => 1))).toThrow(/nested/);
  });

  it('reports a held write lock as busy, from the real driver error', async () => {
    const file = join(dir, 'busy.sqlite');
    const holder = fork(join(ROOT, 'test/store/lock-holder.mjs'), [file, '800'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      holder.once('message', () => resolve());
      holder.once('exit', (code) => reject(new Error(`lock holder exited (${code})`)));
    });
    const other = openDatabase(file);
    try {
      other.exec('PRAGMA busy_timeout = 0');
      let caught: unknown;
      try {
        other.immediate(() => 0);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeDefined();
      expect(isBusy(caught)).toBe(true);
    } finally {
      other.close();
      await new Promise((resolve) => holder.once('exit', resolve));
    }
  });

  it('knows both drivers’ busy and locked shapes, and nothing else', () => {
    expect(isBusy({ code: 'SQLITE_BUSY' })).toBe(true);
    expect(isBusy({ code: 'SQLITE_BUSY_SNAPSHOT' })).toBe(true);
    expect(isBusy({ code: 'SQLITE_LOCKED' })).toBe(true);
    expect(isBusy({ code: 'ERR_SQLITE_ERROR', errcode: 5 })).toBe(true);
    expect(isBusy({ code: 'ERR_SQLITE_ERROR', errcode: 517 })).toBe(true); // SQLITE_BUSY_SNAPSHOT
    expect(isBusy({ code: 'ERR_SQLITE_ERROR', errcode: 6 })).toBe(true);
    expect(isBusy({ code: 'ERR_SQLITE_ERROR', errcode: 19 })).toBe(false);
    expect(isBusy({ code: 'SQLITE_CONSTRAINT' })).toBe(false);
    expect(isBusy(null)).toBe(false);
  });

  it('explains a native module built for another Node, and a missing one', () => {
    const abi = new Error(
      "The module '/x/better_sqlite3.node'\nwas compiled against a different Node.js version using\n" +
        'NODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127.',
    );
    expect(explainLoadError(abi).message).toBe(
      "better-sqlite3's native module was built for another Node; reinstall (npm rebuild better-sqlite3), " +
        'or use Node >= 22.13, which needs no native module (module ABI 115, this Node 127)',
    );
    const missing = Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
    expect(explainLoadError(missing).message).toMatch(
      /not installed; npm install better-sqlite3, or use Node >= 22\.13/,
    );
    const unbuilt = new Error('Could not locate the bindings file. Tried:\n → /x/build/better_sqlite3.node');
    expect(explainLoadError(unbuilt).message).toMatch(
      /^better-sqlite3's native module was never built .*npm rebuild better-sqlite3, or use Node >= 22\.13/,
    );
    const other = new Error('disk I/O error');
    expect(explainLoadError(other)).toBe(other);
  });
});
