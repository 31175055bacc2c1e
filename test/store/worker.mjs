// Child process for two-process.test.ts: opens the shared SQLite file from the BUILT store (dist/),
// says 'ready', waits for 'go', then does 100 × (reserve 1 credit against a day cap + insertJob).
// Usage (via child_process.fork): node worker.mjs <file> <name> <count> <dayCap>
import process from 'node:process';
import { SqliteStore } from '../../dist/store/sqlite.js';

const [file, name, countText, capText] = process.argv.slice(2);
const count = Number(countText);
const dayCap = Number(capText);
const send = (msg) => new Promise((resolve) => process.send(msg, resolve));

const store = SqliteStore.open(file); // both workers race to create and migrate the same new file
await send({ type: 'ready' });
await new Promise((resolve) => process.once('message', resolve));

let ok = 0;
let refused = 0;
const errors = [];
for (let i = 0; i < count; i++) {
  try {
    const res = await store.reserve({
      id: `${name}-res-${i}`,
      provider: 'acme',
      tool: 'acme_image',
      callerId: name,
      principal: 'local',
      day: '2025-03-01',
      credits: 1,
      argsHash: 'h',
      now: Date.now(),
      dayCap,
    });
    if (res.ok) ok++;
    else refused++;
  } catch (err) {
    errors.push(`reserve ${i}: ${err.code ?? ''} ${err.message}`);
  }
  try {
    const now = Date.now();
    await store.insertJob({
      id: `${name}-job-${String(i).padStart(3, '0')}`,
      provider: 'acme',
      tool: 'acme_image',
      providerJobId: `p-${name}-${i}`,
      argsHash: 'h',
      args: { i },
      price: 1,
      callerId: name,
      principal: 'local',
      status: 'pending',
      providerStatus: null,
      progress: null,
      outputs: [],
      error: null,
      polls: 0,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    });
  } catch (err) {
    errors.push(`insertJob ${i}: ${err.code ?? ''} ${err.message}`);
  }
}
await store.close();
await send({ type: 'done', ok, refused, errors, driver: store.driver });
process.disconnect();
