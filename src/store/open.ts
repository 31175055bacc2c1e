/**
 * Where the state lives and which Store implementation serves it.
 */
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { asOutage, storeName, watchStore } from './outage.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

const APP = 'mediagen-mcp';

/** File name of the embedded database inside the state folder. */
export const SQLITE_FILE = 'mediagen.sqlite';

/**
 * The platform's per-user state folder for mediagen-mcp (env is passed in: config.ts is the only
 * module that reads process.env):
 * - Linux and other Unixes: `$XDG_STATE_HOME/mediagen-mcp` (when set and absolute, per the XDG spec),
 *   else `~/.local/state/mediagen-mcp`;
 * - macOS: `~/Library/Application Support/mediagen-mcp`;
 * - Windows: `%LOCALAPPDATA%\mediagen-mcp`, else `~\AppData\Local\mediagen-mcp`.
 */
export function defaultStateDir(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
  sandbox = false,
): string {
  // Sandbox mode: the sub-folder `sandbox`. Its jobs are fake and die with the gateway, and real jobs must
  // never be polled against it: the two ledgers (and their workers) stay apart unless one folder is named.
  if (sandbox)
    return (platform === 'win32' ? path.win32 : path.posix).join(defaultStateDir(env, platform, home), 'sandbox');
  if (platform === 'win32') {
    // Windows variable names are case-insensitive; a copied env object may spell it LocalAppData.
    const local = Object.entries(env).find(([k, v]) => k.toUpperCase() === 'LOCALAPPDATA' && v)?.[1];
    return local ? path.win32.join(local, APP) : path.win32.join(home, 'AppData', 'Local', APP);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', APP);
  const xdg = env.XDG_STATE_HOME;
  if (xdg && path.posix.isAbsolute(xdg)) return path.posix.join(xdg, APP);
  return path.posix.join(home, '.local', 'state', APP);
}

export interface OpenStoreOptions {
  /** Folder of the embedded SQLite database (created with mode 0700 when missing). */
  stateDir: string;
  /** PostgreSQL connection string (DATABASE_URL): when set, the shared PostgreSQL store is used. */
  databaseUrl?: string;
  /**
   * With a logger, the store is watched (store/outage.ts): outages answer STORE_UNAVAILABLE and are logged
   * once when they start and once when they end; and an unavailable store at start is retried.
   */
  logger?: Logger;
  /** How long a store that is unavailable at start is retried, with backoff (default 30 s; 0: not at all). */
  startSeconds?: number;
  /** Waits between attempts at start (tests); default: real time. */
  sleep?: (ms: number) => Promise<void>;
  /** Stops the start-up retry (SIGTERM, Ctrl-C): the wait ends at once and openStore throws. */
  signal?: AbortSignal;
}

/** A wait of `ms` that ends early when `signal` aborts. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Waits between attempts at start: 0.5 s, doubling, at most 5 s. */
const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 5_000;

async function openOnce(opts: OpenStoreOptions, lost: (err: Error) => void): Promise<Store> {
  if (opts.databaseUrl) {
    // The PostgreSQL driver is loaded only when a database URL asks for it.
    const { PgStore } = await import('./postgres.js');
    return PgStore.open(opts.databaseUrl, { onError: lost });
  }
  return SqliteStore.open(path.join(opts.stateDir, SQLITE_FILE));
}

/**
 * The single place that picks the Store implementation: PostgreSQL when a URL is given, else SQLite.
 * An unavailable store at start (PostgreSQL not reachable yet, SQLite locked by another process past its
 * busy timeout) is retried with backoff for `startSeconds`, each wait logged once; past that it throws
 * "… is unavailable …; gave up after N s". Any other failure (a wrong password, a bad path) throws at once.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const kind: Store['kind'] = opts.databaseUrl ? 'postgres' : 'sqlite';
  let onLost: (err: Error) => void = () => undefined;
  const lost = (err: Error): void => onLost(err);
  const started = Date.now();
  const bound = (opts.startSeconds ?? 30) * 1000;
  const sleep = opts.sleep ?? ((ms: number) => abortableSleep(ms, opts.signal));
  const stopped = (): Error =>
    new Error(`stopped (${String(opts.signal?.reason)}) while waiting for ${storeName(kind)}`, {
      cause: opts.signal?.reason,
    });
  let wait = FIRST_WAIT_MS;
  let waited = false;
  let store: Store;
  for (;;) {
    if (opts.signal?.aborted) throw stopped();
    try {
      store = await openOnce(opts, lost);
      break;
    } catch (err) {
      // SQLite at start: only a lock held past the busy timeout is worth waiting for.
      const out = asOutage(err, kind);
      const retry = out && (kind === 'postgres' || /SQLITE_(BUSY|LOCKED)|database is locked/i.test(String(err)));
      const left = bound - (Date.now() - started);
      if (!out || !retry || !opts.logger) throw err;
      const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').slice(0, 300);
      if (left <= 0)
        throw new Error(
          `${storeName(kind)} is unavailable (${reason}); gave up after ${Math.round(bound / 1000)} s (MEDIAGEN_STORE_START_SECONDS)`,
          { cause: err },
        );
      const ms = Math.min(wait, left);
      opts.logger.warn(`${storeName(kind)} is unavailable at start; trying again in ${(ms / 1000).toFixed(1)} s`, {
        error: reason,
        givesUpIn: `${Math.ceil(left / 1000)} s`,
      });
      await sleep(ms);
      waited = true;
      wait = Math.min(wait * 2, MAX_WAIT_MS);
    }
  }
  if (opts.signal?.aborted) {
    // A stop that came while the last attempt was connecting: that store is closed, not handed out.
    await store.close();
    throw stopped();
  }
  if (waited && opts.logger)
    opts.logger.info(`${storeName(kind)} is reachable after ${Math.round((Date.now() - started) / 1000)} s`);
  if (!opts.logger) return store;
  const watched = watchStore(store, opts.logger);
  onLost = watched.lost;
  return watched.store;
}
