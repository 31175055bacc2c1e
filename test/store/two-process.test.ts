/**
 * Two server processes writing the same SQLite file at once: caps hold across processes, every
 * write lands, and lock waits never surface as SQLITE_BUSY. The workers run the BUILT store
 * (dist/store/sqlite.js); `npm test` builds it first (or run `npx tsc -p tsconfig.json`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { JobRecord } from '../../src/store/store.js';
import { makeJob, T0 } from './contract-fixtures.js';

const BUILT = fileURLToPath(new URL('../../dist/store/sqlite.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const LOCK_HOLDER = fileURLToPath(new URL('./lock-holder.mjs', import.meta.url));
const LEASE_WORKER = fileURLToPath(new URL('./lease-worker.mjs', import.meta.url));
const PER_WORKER = 100;
const DAY_CAP = 150;

interface Done {
  type: 'done';
  ok: number;
  refused: number;
  errors: string[];
  driver: string;
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<Done>;
}

interface LeaseDone {
  type: 'done';
  leased: string[];
  granted: number;
  errors: string[];
}

/** Every job in the store, page by page. */
async function allJobs(store: SqliteStore): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listJobs({ limit: 100, cursor });
    jobs.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return jobs;
}

/** A Node binary whose SQLite driver differs from this one's (CI sets it: the system Node beside Node 22). */
const OTHER_NODE = process.env.MEDIAGEN_OTHER_NODE;

function startWorker(file: string, name: string, count = PER_WORKER, execPath = process.execPath): Worker {
  const child = fork(WORKER, [file, name, String(count), String(DAY_CAP)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execPath,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<Done>((resolve, reject) => {
    child.on('message', (msg: { type: string }) => {
      if (msg.type === 'ready') markReady();
      if (msg.type === 'done') resolve(msg as Done);
    });
    // 'close' (not 'exit'): it comes after the IPC channel has delivered every message the worker sent.
    child.on('close', (code) => reject(new Error(`worker ${name} exited (${code}) early: ${stderr}`)));
    child.on('error', reject);
  });
  // surface an early exit while waiting for 'ready' as well
  const readyOrFail = Promise.race([ready, done.then(() => undefined)]);
  return { child, ready: readyOrFail, done };
}

describe('SQLite shared by two processes', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('never overspends a day cap and loses no writes when two processes write at once', async () => {
    expect(existsSync(BUILT), `${BUILT} is missing: build first (npx tsc -p tsconfig.json, or npm test)`).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'mediagen-2proc-'));
    dirs.push(dir);
    const file = join(dir, 'state', 'mediagen.sqlite'); // does not exist yet: both race to create it

    const workers = [startWorker(file, 'w1'), startWorker(file, 'w2')];
    children.push(...workers.map((w) => w.child));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.send('go');
    const results = await Promise.all(workers.map((w) => w.done));

    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(DAY_CAP);
    expect(results.reduce((n, r) => n + r.refused, 0)).toBe(2 * PER_WORKER - DAY_CAP);

    const store = SqliteStore.open(file);
    try {
      const jobs = await allJobs(store);
      expect(jobs).toHaveLength(2 * PER_WORKER);
      expect(new Set(jobs.map((j) => j.id)).size).toBe(2 * PER_WORKER);
      expect(await store.spendTotals({ day: '2025-03-01' })).toEqual([
        { provider: 'acme', committed: 0, reserved: DAY_CAP, uncertain: 0, refunded: 0, released: 0 },
      ]);
      expect((await store.recentSpend(1000)).filter((r) => r.state === 'reserved')).toHaveLength(DAY_CAP);
    } finally {
      await store.close();
    }
  });

  it('two processes leasing one file never lease the same job, and share one rate window exactly', async () => {
    expect(existsSync(BUILT), `${BUILT} is missing: build first`).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'mediagen-lease-'));
    dirs.push(dir);
    const file = join(dir, 'mediagen.sqlite');
    const setup = SqliteStore.open(file);
    for (let i = 0; i < 300; i++) await setup.insertJob(makeJob({ id: `job_${String(i).padStart(3, '0')}` }));
    await setup.close();
    const now = String(T0 + 1000);
    const runs = ['w1', 'w2'].map((owner) => {
      const child = fork(LEASE_WORKER, [file, owner, now, '40', '30'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const ready = new Promise<void>((resolve) =>
        child.on('message', (m: { type: string }) => m.type === 'ready' && resolve()),
      );
      const done = new Promise<LeaseDone>((resolve, reject) => {
        child.on('message', (m: { type: string }) => m.type === 'done' && resolve(m as LeaseDone));
        child.on('close', (code) => reject(new Error(`lease worker ${owner} exited (${code}) early: ${stderr}`)));
      });
      return { child, ready, done };
    });
    await Promise.all(runs.map((r) => r.ready));
    for (const r of runs) r.child.send('go');
    const [a, b] = await Promise.all(runs.map((r) => r.done));
    expect([...a.errors, ...b.errors]).toEqual([]);
    expect(a.leased.filter((id) => b.leased.includes(id))).toEqual([]);
    expect(new Set([...a.leased, ...b.leased]).size).toBe(300);
    expect(a.leased.length + b.leased.length).toBe(300);
    expect(a.granted + b.granted).toBe(30);
  });

  it.skipIf(OTHER_NODE === undefined)(
    'shares one WAL file between a node:sqlite process and a better-sqlite3 process: caps hold, no write lost',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'mediagen-2drv-'));
      dirs.push(dir);
      const file = join(dir, 'state', 'mediagen.sqlite');
      const workers = [startWorker(file, 'w1'), startWorker(file, 'w2', PER_WORKER, OTHER_NODE)];
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.child.send('go');
      const results = await Promise.all(workers.map((w) => w.done));
      expect(new Set(results.map((r) => r.driver))).toEqual(new Set(['node:sqlite', 'better-sqlite3']));
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      expect(results.reduce((n, r) => n + r.ok, 0)).toBe(DAY_CAP);
      const store = SqliteStore.open(file);
      try {
        expect(await allJobs(store)).toHaveLength(2 * PER_WORKER);
        expect(await store.spendTotals({ day: '2025-03-01' })).toEqual([
          expect.objectContaining({ provider: 'acme', reserved: DAY_CAP }),
        ]);
      } finally {
        await store.close();
      }
    },
  );

  it('waits for another process that holds the write lock while the file is switched to WAL', async () => {
    // SQLite answers SQLITE_BUSY at once (no busy handler) when journal_mode=WAL meets a held write lock.
    const dir = await mkdtemp(join(tmpdir(), 'mediagen-lock-'));
    dirs.push(dir);
    await mkdir(join(dir, 'state'));
    const file = join(dir, 'state', 'mediagen.sqlite');
    const holder = fork(LOCK_HOLDER, [file, '300'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    children.push(holder);
    await new Promise<void>((resolve, reject) => {
      holder.on('message', () => resolve());
      holder.on('exit', (code) => reject(new Error(`lock holder exited (${code})`)));
    });
    const started = Date.now();
    const store = SqliteStore.open(file);
    try {
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      await store.insertJob(makeJob({ id: 'job_1' }));
      expect(await store.getJob('job_1')).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('lets many processes open (create, switch to WAL, migrate) the same new file at once', async () => {
    expect(existsSync(BUILT), `${BUILT} is missing: build first`).toBe(true);
    for (let round = 0; round < 3; round++) {
      const dir = await mkdtemp(join(tmpdir(), 'mediagen-open-'));
      dirs.push(dir);
      const file = join(dir, 'state', 'mediagen.sqlite');
      const workers = Array.from({ length: 6 }, (_, i) => startWorker(file, `o${i}`, 0));
      children.push(...workers.map((w) => w.child));
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.child.send('go');
      const results = await Promise.all(workers.map((w) => w.done));
      expect(results.flatMap((r) => r.errors)).toEqual([]);
    }
  });
});
