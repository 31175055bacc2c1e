// Benchmark: the background worker (dist/jobs/worker.js) draining N open jobs on SQLite and PostgreSQL
// (DATABASE_URL) against an in-process sandbox gateway. Results -> bench/results/worker-<date>.json.
//
//   node bench/worker.mjs [--jobs 1000,10000] [--stores sqlite,postgres] [--concurrency 16]
//                         [--poll-ms 1000] [--max-seconds 60]
//
// Every job is open in the ledger, due at once, and already finished at the provider (the sandbox answers
// its first status poll with the result): the backlog a worker finds when it starts after an outage, or
// when many jobs finish together. The worker starts with all of them recorded. Measured per run, up to
// --max-seconds:
// - polls per second sustained: status polls from the worker's start to the last job recorded (or the cap);
// - store calls per poll: every call of a Store method by the worker and the ledger (counted by wrapping
//   the store object here, not in src), each one statement or one short transaction;
// - lag from provider completion to ledger: from the later of the job's completion at the provider and the
//   worker's start, to the write of its succeeded status (p50, p95, max over the jobs recorded in time);
// - RSS (this process: worker, store driver and the sandbox together), sampled every 250 ms.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { newJobRecord } from '../dist/jobs/job-record.js';
import { Worker } from '../dist/jobs/worker.js';
import { silentLogger } from '../dist/log.js';
import { startSandbox } from '../dist/sandbox/index.js';
import { openStore } from '../dist/store/open.js';

const { values: opt } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000,10000' },
    stores: { type: 'string', default: process.env.DATABASE_URL ? 'sqlite,postgres' : 'sqlite' },
    concurrency: { type: 'string', default: '16' },
    'poll-ms': { type: 'string', default: '1000' },
    'max-seconds': { type: 'string', default: '60' },
  },
});
const COUNTS = opt.jobs.split(',').map(Number);
const STORES = opt.stores.split(',');
const CONCURRENCY = Number(opt.concurrency);
const POLL_MS = Number(opt['poll-ms']);
const MAX_MS = Number(opt['max-seconds']) * 1000;
const PHAYA_DEFAULT = 'https://api.phaya.io/api/v1';
const TOOL = 'phaya_text_to_image';
const mb = (n) => Math.round((n / 1024 / 1024) * 10) / 10;
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : null);

async function freshPg() {
  const name = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The store with every method call counted (by method name), and the time each job was recorded succeeded. */
function counted(store) {
  const calls = {};
  const recorded = new Map();
  const proxy = new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function' || prop === 'close') return v;
      return async (...args) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        const r = await v.apply(target, args);
        if (prop === 'updateJob' && args[1].status === 'succeeded') recorded.set(args[0], Date.now());
        return r;
      };
    },
  });
  return { proxy, calls, recorded };
}

/**
 * N jobs created at the sandbox (its create route, 32 at a time) and recorded in the store, due now; the
 * time each one finished at the provider (its create: the first poll answers completed), by job id.
 */
async function seed(store, sandbox, n) {
  const base = sandbox.baseUrl('phaya', PHAYA_DEFAULT);
  const now = Date.now();
  const finishedAt = new Map();
  let next = 0;
  const one = async () => {
    for (let i = next++; i < n; i = next++) {
      const res = await fetch(`${base}/text-to-image/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `bench ${i}` }),
      });
      const body = await res.json();
      const providerJobId = body.job_id ?? body.data?.job_id;
      if (!providerJobId) throw new Error(`sandbox create: ${JSON.stringify(body)}`);
      const id = `job_${now.toString(36)}${randomBytes(8).toString('hex')}`;
      finishedAt.set(id, Date.now());
      // The record the ledger writes for an accepted job, due at once (no first-poll delay).
      const tool = { name: TOOL, provider: 'phaya' };
      const job = newJobRecord(
        {
          id,
          tool,
          providerJobId,
          argsHash: 'bench',
          args: { prompt: `bench ${i}` },
          price: null,
          callerId: 'bench',
          principal: 'local',
        },
        now,
        0,
      );
      await store.insertJob(job);
    }
  };
  await Promise.all(Array.from({ length: 32 }, one));
  return finishedAt;
}

async function run(kind, n) {
  const stateDir = mkdtempSync(join(tmpdir(), 'mediagen-bench-worker-'));
  const db = kind === 'postgres' ? await freshPg() : undefined;
  const sandbox = await startSandbox({ pollsToComplete: 1 });
  const raw = await openStore({ stateDir, databaseUrl: db?.url });
  try {
    const finishedAt = await seed(raw, sandbox, n);
    const { proxy: store, calls, recorded } = counted(raw);
    const { config } = loadConfig(['--rate-limit', 'phaya=off'], {
      MEDIAGEN_STATE_DIR: stateDir,
      MEDIAGEN_POLL_MS: String(POLL_MS),
    });
    const app = buildApp(
      config,
      silentLogger,
      { override: (cat) => ({ baseUrl: sandbox.baseUrl(cat.provider, cat.baseUrl.default), key: sandbox.key }) },
      store,
      false,
    );
    const worker = new Worker({
      store,
      logger: silentLogger,
      concurrency: CONCURRENCY,
      pollerFor: () => app,
      intervalMs: POLL_MS,
      providers: ['phaya'],
    });
    for (const k of Object.keys(calls)) delete calls[k];
    let rssMax = process.memoryUsage().rss;
    const rssBefore = rssMax;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 250);
    const t0 = performance.now();
    worker.start();
    const started = Date.now();
    let done = 0;
    while (performance.now() - t0 < MAX_MS) {
      await new Promise((r) => setTimeout(r, 250));
      done = recorded.size;
      if (done >= n) break;
    }
    const wallMs = performance.now() - t0;
    await worker.stop();
    clearInterval(sampler);
    const st = worker.stats();
    const storeCalls = Object.values(calls).reduce((a, b) => a + b, 0);
    const sorted = [...recorded].map(([id, at]) => at - Math.max(started, finishedAt.get(id))).sort((a, b) => a - b);
    await app.close();
    return {
      store: kind,
      jobs: n,
      finished: done,
      complete: done >= n,
      concurrency: CONCURRENCY,
      pollMs: POLL_MS,
      wallMs: Math.round(wallMs),
      polls: st.polls,
      errors: st.errors,
      pollsPerSecond: Math.round((st.polls / wallMs) * 1000),
      storeCallsPerPoll: Math.round((storeCalls / Math.max(1, st.polls)) * 100) / 100,
      storeCalls: calls,
      lagMs: { p50: pct(sorted, 0.5), p95: pct(sorted, 0.95), max: sorted.at(-1) ?? null },
      rssMb: { before: mb(rssBefore), peak: mb(rssMax) },
      sandboxRequests: sandbox.stats().total,
    };
  } finally {
    await raw.close();
    await sandbox.close();
    await db?.drop();
  }
}

async function main() {
  const rows = [];
  for (const kind of STORES)
    for (const n of COUNTS) {
      process.stderr.write(`worker bench: ${kind}, ${n} jobs ...\n`);
      const row = await run(kind, n);
      rows.push(row);
      process.stderr.write(
        `  ${row.finished}/${n} final in ${(row.wallMs / 1000).toFixed(1)} s: ${row.pollsPerSecond} polls/s, ` +
          `${row.storeCallsPerPoll} store calls/poll, lag p50 ${row.lagMs.p50} p95 ${row.lagMs.p95} max ${row.lagMs.max} ms, ` +
          `RSS ${row.rssMb.before} -> ${row.rssMb.peak} MB\n`,
      );
    }
  const date = new Date().toISOString().slice(0, 10);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `worker-${date}.json`);
  writeFileSync(file, JSON.stringify({ date, node: process.versions.node, rows }, null, 2) + '\n');
  process.stderr.write(`written ${file}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`worker bench failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
