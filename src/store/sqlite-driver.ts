/**
 * The SQLite driver layer: `node:sqlite` (DatabaseSync, built into Node >= 22.13) when the runtime has it,
 * else better-sqlite3 (an optional dependency with a native module, for Node 20). Nothing above this module
 * knows which one runs. Both are made to behave alike:
 * - named parameters: the object must hold exactly the statement's names (a missing or an extra key throws;
 *   node:sqlite would bind NULL for a missing one, better-sqlite3 ignores an extra one);
 * - `undefined` binds NULL (node:sqlite rejects it);
 * - rows are plain objects (node:sqlite returns null-prototype rows), `changes` is a number;
 * - busy/locked: `isBusy` knows better-sqlite3's `SQLITE_BUSY*` codes and node:sqlite's `errcode` 5/6;
 * - `immediate(fn)` runs fn inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when it throws).
 */
import { createRequire } from 'node:module';

export type DriverName = 'node:sqlite' | 'better-sqlite3';

export interface RunResult {
  changes: number;
}

export interface SqlStatement<R = unknown> {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): R | undefined;
  all(...params: unknown[]): R[];
}

export interface SqlDatabase {
  readonly driver: DriverName;
  readonly open: boolean;
  exec(sql: string): void;
  prepare<R = unknown>(sql: string): SqlStatement<R>;
  /** Runs fn in one BEGIN IMMEDIATE transaction (write lock first, waiting up to busy_timeout). */
  immediate<T>(fn: () => T): T;
  close(): void;
}

/** The part of either driver's statement object this layer uses. */
interface NativeStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

interface NativeDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): NativeStatement;
  close(): void;
}

type NativeCtor = new (file: string, options?: Record<string, unknown>) => NativeDatabase;

const require = createRequire(import.meta.url);

/** True when this Node has `node:sqlite` without a flag (22.13+, 23.4+, 24+). */
export function runtimeHasNodeSqlite(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
}

/** The driver this process uses unless told otherwise. */
export function defaultDriver(): DriverName {
  return runtimeHasNodeSqlite() ? 'node:sqlite' : 'better-sqlite3';
}

const NATIVE_HINT =
  "better-sqlite3's native module was built for another Node; reinstall (npm rebuild better-sqlite3), " +
  'or use Node >= 22.13, which needs no native module';

/** Turns a failure to load better-sqlite3's native module into one actionable sentence. */
export function explainLoadError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'MODULE_NOT_FOUND' && message.includes("'better-sqlite3'")) {
    return new Error(
      `the SQLite store needs better-sqlite3 on Node ${process.versions.node}, and it is not installed; ` +
        'npm install better-sqlite3, or use Node >= 22.13, which needs no native module',
    );
  }
  const abi = /NODE_MODULE_VERSION (\d+)[^]*?NODE_MODULE_VERSION (\d+)/.exec(message);
  if (abi !== null) return new Error(`${NATIVE_HINT} (module ABI ${abi[1]}, this Node ${abi[2]})`);
  if (/could not locate the bindings file/i.test(message)) {
    return new Error(
      "better-sqlite3's native module was never built (its install script did not run; npm 12 skips install " +
        'scripts unless allowed); npm rebuild better-sqlite3, or use Node >= 22.13, which needs no native module',
    );
  }
  if (/better_sqlite3\.node|invalid ELF|wrong ELF|image not found|code signature/i.test(message)) {
    return new Error(`${NATIVE_HINT} (${message.split('\n')[0]})`);
  }
  return err instanceof Error ? err : new Error(message);
}

/**
 * node:sqlite on Node 22 announces itself with an ExperimentalWarning on stderr at load. It is expected
 * here (the driver is chosen on purpose), so that one warning is kept out of the user's log.
 */
function loadNodeSqlite(): NativeCtor {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/i.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return (require('node:sqlite') as { DatabaseSync: NativeCtor }).DatabaseSync;
  } finally {
    process.emitWarning = emit;
  }
}

function loadCtor(driver: DriverName): NativeCtor {
  if (driver === 'node:sqlite') return loadNodeSqlite();
  try {
    return require('better-sqlite3') as NativeCtor;
  } catch (err) {
    throw explainLoadError(err);
  }
}

/** Busy or locked, from either driver: `SQLITE_BUSY*` / `SQLITE_LOCKED*` codes, or errcode 5 / 6. */
export function isBusy(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown } | null;
  if (typeof e?.code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(e.code)) return true;
  return typeof e?.errcode === 'number' && [5, 6].includes(e.errcode & 0xff);
}

/** The named parameters (`@x`, `:x`, `$x`) of a statement, string literals and comments ignored. */
export function namedParameters(sql: string): ReadonlySet<string> {
  const code = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[^]*?\*\//g, ' ');
  return new Set(Array.from(code.matchAll(/[@:$]([A-Za-z_][A-Za-z0-9_]*)/g), (m) => m[1]!));
}

function isNamed(params: unknown[]): params is [Record<string, unknown>] {
  const [first] = params;
  return (
    params.length === 1 &&
    typeof first === 'object' &&
    first !== null &&
    !ArrayBuffer.isView(first) &&
    !Array.isArray(first)
  );
}

class Statement<R> implements SqlStatement<R> {
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly native: NativeStatement,
    sql: string,
    private readonly plainRows: boolean,
  ) {
    this.names = namedParameters(sql);
  }

  /** Same binding rules on both drivers: exact named keys, undefined → NULL. */
  private bind(params: unknown[]): unknown[] {
    if (!isNamed(params)) return params.map((v) => (v === undefined ? null : v));
    const given = params[0];
    const bound: Record<string, unknown> = {};
    for (const key of Object.keys(given)) {
      if (!this.names.has(key)) throw new RangeError(`unknown named parameter '${key}'`);
    }
    for (const name of this.names) {
      if (!Object.hasOwn(given, name)) throw new RangeError(`missing named parameter '${name}'`);
      bound[name] = given[name] ?? null;
    }
    return [bound];
  }

  private row(r: unknown): R {
    return (this.plainRows ? r : { ...(r as object) }) as R;
  }

  run(...params: unknown[]): RunResult {
    return { changes: Number(this.native.run(...this.bind(params)).changes) };
  }

  get(...params: unknown[]): R | undefined {
    const r = this.native.get(...this.bind(params));
    return r === undefined || r === null ? undefined : this.row(r);
  }

  all(...params: unknown[]): R[] {
    return this.native.all(...this.bind(params)).map((r) => this.row(r));
  }
}

class Database implements SqlDatabase {
  private isOpen = true;
  private inTransaction = false;

  constructor(
    private readonly native: NativeDatabase,
    readonly driver: DriverName,
  ) {}

  get open(): boolean {
    return this.isOpen;
  }

  exec(sql: string): void {
    this.native.exec(sql);
  }

  prepare<R = unknown>(sql: string): SqlStatement<R> {
    return new Statement<R>(this.native.prepare(sql), sql, this.driver === 'better-sqlite3');
  }

  immediate<T>(fn: () => T): T {
    if (this.inTransaction) throw new Error('nested transactions are not supported');
    this.native.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
    try {
      const result = fn();
      this.native.exec('COMMIT');
      return result;
    } catch (err) {
      try {
        this.native.exec('ROLLBACK');
      } catch {
        // SQLite may already have rolled back (e.g. after SQLITE_FULL); the first error is the one to report.
      }
      throw err;
    } finally {
      this.inTransaction = false;
    }
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.native.close();
  }
}

export interface OpenDatabaseOptions {
  /** Force a driver (tests); default: node:sqlite when the runtime has it, else better-sqlite3. */
  driver?: DriverName;
  readonly?: boolean;
}

/** Opens a SQLite file (or ':memory:') with the chosen driver. */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): SqlDatabase {
  const driver = opts.driver ?? defaultDriver();
  const Ctor = loadCtor(driver);
  // busy_timeout is set by the store's configure(); only the read-only flag differs in spelling.
  const options =
    driver === 'node:sqlite' ? { readOnly: opts.readonly ?? false } : { readonly: opts.readonly ?? false };
  try {
    return new Database(new Ctor(file, options), driver);
  } catch (err) {
    throw driver === 'better-sqlite3' ? explainLoadError(err) : err;
  }
}
