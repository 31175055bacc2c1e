/**
 * The Store contract through the metrics' timing view (timedStore) over SQLite: the proxy must change no
 * answer, no error and no `this` of any method the suite reaches.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '../../src/metrics/metrics.js';
import { timedStore } from '../../src/metrics/timed-store.js';
import { openStore } from '../../src/store/open.js';
import { storeContract } from './contract.js';

const dirs: string[] = [];
let stateDir = '';
storeContract(
  'sqlite through timedStore',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mediagen-store-timed-'));
    dirs.push(dir);
    return timedStore(await openStore({ stateDir: (stateDir = join(dir, 'state')) }), new Metrics());
  },
  async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  },
  () => openStore({ stateDir }),
);
