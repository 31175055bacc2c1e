/**
 * The Store contract: every implementation (SQLite now, PostgreSQL later) must pass this suite.
 * It tests only through the Store interface.
 *
 * `open` must return a connected, EMPTY store each time it is called (it is called before every
 * test); `cleanup` (optional) runs after every test, once the store is closed; `peer` opens another
 * handle (connection, pool) on the database of the latest `open`, as a second process or replica would.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { acceptedContract } from './contract-accepted.js';
import { approvalsContract } from './contract-approvals.js';
import { jobsContract } from './contract-jobs.js';
import { keysContract } from './contract-keys.js';
import { observedContract } from './contract-observed.js';
import { principalsContract } from './contract-principals.js';
import { spendContract } from './contract-spend.js';
import { spendDaysContract } from './contract-spend-days.js';
import { trackContract } from './contract-track.js';
import { workerContract, type PeerRef } from './contract-worker.js';
import { workerGuardsContract } from './contract-worker-guards.js';

export function storeContract(
  name: string,
  open: () => Promise<Store>,
  cleanup: (() => Promise<void>) | undefined,
  peer: () => Promise<Store>,
): void {
  describe(`Store contract: ${name}`, () => {
    let current: Store | undefined;
    const peers: Store[] = [];
    const ref: PeerRef = {
      get store(): Store {
        if (current === undefined) throw new Error('store not open');
        return current;
      },
      async peer(): Promise<Store> {
        const store = await peer();
        peers.push(store);
        return store;
      },
    };

    beforeEach(async () => {
      current = await open();
    });

    afterEach(async () => {
      for (const p of peers.splice(0)) await p.close();
      await current?.close();
      current = undefined;
      await cleanup?.();
    });

    jobsContract(ref);
    spendContract(ref);
    spendDaysContract(ref);
    keysContract(ref);
    approvalsContract(ref);
    principalsContract(ref);
    observedContract(ref);
    trackContract(ref);
    acceptedContract(ref);
    workerContract(ref);
    workerGuardsContract(ref);
  });
}
