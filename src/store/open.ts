/**
 * Where the state lives and which Store implementation serves it.
 */
import os from 'node:os';
import path from 'node:path';
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
  /** Told when an idle PostgreSQL connection fails (the pool replaces it). */
  onError?: (err: Error) => void;
}

/** The single place that picks the Store implementation: PostgreSQL when a URL is given, else SQLite. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    // The PostgreSQL driver is loaded only when a database URL asks for it.
    const { PgStore } = await import('./postgres.js');
    return PgStore.open(opts.databaseUrl, { onError: opts.onError });
  }
  return SqliteStore.open(path.join(opts.stateDir, SQLITE_FILE));
}
