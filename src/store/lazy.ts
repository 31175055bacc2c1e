/**
 * A Store opened on first use: start-up loads no database driver and opens no database until a call
 * needs them (a session that only lists tools never does). Every Store method is asynchronous, so each
 * one simply waits for the opening; close() closes only what was opened.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { StartupError } from '../errors.js';
import type { Store } from './store.js';

type Method = (...args: unknown[]) => Promise<unknown>;

/** Fail fast on a state folder we cannot write (the usual reason a store cannot open), without opening it. */
export function checkStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new StartupError(
      `${dir}: the state folder is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

export function lazyStore(kind: Store['kind'], open: () => Promise<Store>): Store {
  let opened: Promise<Store> | undefined;
  const real = (): Promise<Store> => (opened ??= open());
  const methods = new Map<string | symbol, Method>();
  return new Proxy({ kind } as Store, {
    get(target, prop) {
      if (prop === 'kind') return kind;
      if (prop === 'then') return undefined; // not a thenable
      if (prop === 'close')
        return async () => {
          if (opened) await (await opened).close();
        };
      let m = methods.get(prop);
      if (!m) {
        m = async (...args) => {
          const s = (await real()) as unknown as Record<string | symbol, Method | undefined>;
          const f = s[prop];
          if (typeof f !== 'function') throw new TypeError(`the store has no method ${String(prop)}`);
          return f.apply(s, args);
        };
        methods.set(prop, m);
      }
      return m;
    },
  });
}
