/**
 * Where the state lives and which Store implementation serves it.
 */
import path from 'node:path';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/** File name of the embedded database inside the state folder. */
export const SQLITE_FILE = 'mediagen.sqlite';

export { defaultStateDir } from './state-dir.js';

export interface OpenStoreOptions {
  /** Folder of the embedded SQLite database (created with mode 0700 when missing). */
  stateDir: string;
}

/**
 * The single place that picks the Store implementation. PostgreSQL (DESIGN §8) arrives in a later
 * issue: it will add `databaseUrl` to OpenStoreOptions and branch here, before the SQLite default.
 */
export function openStore(opts: OpenStoreOptions): Store {
  return SqliteStore.open(path.join(opts.stateDir, SQLITE_FILE));
}
