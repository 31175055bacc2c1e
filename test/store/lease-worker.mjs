// Child process for two-process.test.ts: opens the shared SQLite file from the BUILT store (dist/), says
// 'ready', waits for 'go', then leases due jobs 3 at a time until none is left (each lease given back with
// no next poll), and takes `takes` slots of one rate window. Reports the ids it leased and its granted slots.
// Usage (via child_process.fork): node lease-worker.mjs <file> <owner> <now> <takes> <rateLimit>
import process from 'node:process';
import { SqliteStore } from '../../dist/store/sqlite.js';

const [file, owner, nowText, takesText, limitText] = process.argv.slice(2);
const now = Number(nowText);
const send = (msg) => new Promise((resolve) => process.send(msg, resolve));

const store = SqliteStore.open(file);
await send({ type: 'ready' });
await new Promise((resolve) => process.once('message', resolve));

const leased = [];
const errors = [];
let granted = 0;
try {
  for (let i = 0; i < Number(takesText); i++) {
    const bucket = 'acme:0123456789abcdef';
    if ((await store.takeRateSlot({ bucket, limit: Number(limitText), windowMs: 60_000, now })) === 0) granted++;
    const jobs = await store.leaseDueJobs({ owner, now, leaseMs: 600_000, limit: 3 });
    for (const job of jobs) {
      leased.push(job.id);
      if (!(await store.releaseLease(job.id, owner, { nextPollAt: null, errors: 0 }))) errors.push(`lost ${job.id}`);
    }
  }
  for (;;) {
    const jobs = await store.leaseDueJobs({ owner, now, leaseMs: 600_000, limit: 3 });
    if (jobs.length === 0) break;
    for (const job of jobs) {
      leased.push(job.id);
      if (!(await store.releaseLease(job.id, owner, { nextPollAt: null, errors: 0 }))) errors.push(`lost ${job.id}`);
    }
  }
} catch (err) {
  errors.push(`${err.code ?? ''} ${err.message}`);
}
await store.close();
await send({ type: 'done', leased, granted, errors });
process.disconnect();
