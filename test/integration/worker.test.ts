/**
 * The background worker over a real app, a real SQLite store and a real provider on loopback (speaking the
 * Acme test catalogue's wire, with jobs that answer, hang or are unknown): stopping gives its leases back
 * at once; failed polls back off exponentially and are counted in the row; a job this process cannot poll
 * is left for another (due as it was) and nothing is sent; keeping outputs is retried with backoff and
 * given up KEEP_HORIZON_MS after the job finished, each output saying why.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { KEEP_HORIZON_MS, Worker, type Poller } from '../../src/jobs/worker.js';
import { LATE_GRACE_MS } from '../../src/jobs/schedule.js';
import { createLogger } from '../../src/log.js';
import type { JobRecord } from '../../src/store/store.js';
import { runningJob } from '../store/contract-fixtures.js';
import { tempDir } from '../helpers/in-memory.js';
import { ACME_FILE } from '../helpers/paths.js';
import { eventually, quiet, shortestGap } from '../helpers/worker.js';

const KEY = 'acme-worker-key';
/** Status requests received, by provider job id (arrival times). */
const seen = new Map<string, number[]>();
let provider: Server;
let base: string;

beforeAll(async () => {
  provider = createServer((req, res) => {
    const id = /^\/image\/status\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    req.resume();
    if (!id || req.headers.authorization !== `Bearer ${KEY}`) return void res.writeHead(404).end();
    seen.set(id, [...(seen.get(id) ?? []), Date.now()]);
    if (id.startsWith('hang')) return; // never answers
    if (id.startsWith('gone')) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'completed', image_url: [`${base}/media/${id}.png`] }));
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => provider.close(() => r())));

let app: App;
let worker: Worker | undefined;
const lines: string[] = [];
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await app?.close(true);
  lines.length = 0;
});

async function start(opts: { pollerFor?: (job: JobRecord) => Poller | undefined; intervalMs?: number } = {}) {
  const { config } = loadConfig(['--catalogue', ACME_FILE], {
    MEDIAGEN_STATE_DIR: tempDir(),
    ACME_API_KEY: KEY,
    ACME_BASE_URL: base,
    MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
    MEDIAGEN_POLL_MS: '20', // the ledger's interval, as the worker's below
  });
  const logger = createLogger('info', [], (l) => lines.push(l));
  app = await createApp(config, logger);
  worker = new Worker({
    store: app.store,
    logger,
    concurrency: 4,
    intervalMs: opts.intervalMs ?? 20,
    leaseMs: 60_000,
    idleMs: 100,
    pollerFor: opts.pollerFor ?? (() => app),
  });
  return worker;
}

async function insert(providerJobId: string, extra: Partial<JobRecord> = {}): Promise<JobRecord> {
  const now = Date.now();
  const job = runningJob(providerJobId, now, extra);
  await app.store.insertJob(job);
  return job;
}

describe('the background worker', () => {
  it('stop() aborts a hanging poll and gives the lease back at once: the job is due for another worker', async () => {
    const w = await start();
    const job = await insert('hang-1');
    w.start();
    await eventually('the status request', async () => (seen.get('hang-1')?.length ? true : undefined));
    await w.stop();
    // Another worker takes it now, not when the 60 s lease would have run out.
    const taken = await app.store.leaseDueJobs({ owner: 'other', now: Date.now(), leaseMs: 1_000, limit: 10 });
    expect(taken.map((j) => j.id)).toContain(job.id);
    expect((await app.store.getJob(job.id))?.status).toBe('running');
  });

  it('backs off exponentially after failed polls and counts them on the row', async () => {
    const w = await start();
    const job = await insert('gone-1');
    w.start();
    const times = await eventually('five failed polls', async () => {
      const t = seen.get('gone-1') ?? [];
      return t.length >= 5 ? t.slice(0, 5) : undefined;
    });
    // Delays of at least 20 ms × 2^k after the k-th error in a row.
    for (let k = 1; k < times.length; k++) expect(times[k] - times[k - 1]).toBeGreaterThanOrEqual(20 * 2 ** k - 5);
    await w.stop();
    expect((await app.store.getJob(job.id))?.pollErrors).toBeGreaterThanOrEqual(4);
    expect(w.stats().errors).toBeGreaterThanOrEqual(5);
    expect(lines.some((l) => l.includes(`status poll of job ${job.id} failed`) && l.includes('NOT_FOUND'))).toBe(true);
  });

  it('leaves a job it cannot poll to another process, due as it was, sending nothing and not leasing it again', async () => {
    const w = await start({ pollerFor: () => undefined });
    const job = await insert('done-unpollable');
    w.start();
    await quiet(500); // leased, found unpollable and given back (idleMs 100)
    // Another process takes it at once: its next poll time was not pushed out for everybody.
    const row = await app.store.getJob(job.id);
    expect(row!.nextPollAt!).toBeLessThanOrEqual(Date.now());
    const other = await app.store.leaseDueJobs({ owner: 'other', now: Date.now(), leaseMs: 1_000, limit: 10 });
    expect(other.map((j) => j.id)).toEqual([job.id]);
    expect(seen.get('done-unpollable')).toBeUndefined();
    // Given back due again, this worker leaves it alone for a while (it stays due for the others).
    await app.store.releaseLease(job.id, 'other', { nextPollAt: Date.now(), errors: 0 });
    await new Promise((r) => setTimeout(r, 500));
    const third = await app.store.leaseDueJobs({ owner: 'third', now: Date.now(), leaseMs: 1_000, limit: 10 });
    expect(third.map((j) => j.id)).toEqual([job.id]);
  });

  it('gives up a job it cannot poll 48 h past its time limit, as a poll would, sending nothing', async () => {
    const w = await start({ pollerFor: () => undefined });
    const long = Date.now() - (LATE_GRACE_MS + 2 * 3_600_000);
    const job = await insert('done-unpollable-old', { createdAt: long, updatedAt: long });
    w.start();
    const row = await eventually('the job given up', async () => {
      const j = await app.store.getJob(job.id);
      return j?.nextPollAt === null ? j : undefined;
    });
    expect(row.status).toBe('running');
    expect(w.stats().gaveUp).toBe(1);
    expect(seen.get('done-unpollable-old')).toBeUndefined();
  });

  it('finishes a job, then keeps its outputs, retrying a failing keep with backoff', async () => {
    let tries = 0;
    const kept: string[] = [];
    const w = await start({
      pollerFor: () => ({
        ledger: app.ledger,
        keepOutputs: async (job) => {
          if (++tries < 3) throw new Error('bucket unreachable');
          kept.push(job.id);
          return job;
        },
      }),
    });
    // The ledger of this app keeps no outputs, so stand in for a succeeded job whose outputs are due.
    const job = await insert('done-keep', {
      status: 'succeeded',
      outputs: [{ url: `${base}/media/k.png`, kind: 'image' }],
      finishedAt: Date.now(),
    });
    w.start();
    await eventually('the outputs kept', async () => (kept.length ? true : undefined));
    expect(kept).toEqual([job.id]);
    expect(tries).toBe(3);
    const row = await eventually('the lease given back', async () => {
      const j = await app.store.getJob(job.id);
      return j?.nextPollAt === null ? j : undefined;
    });
    expect(row.pollErrors).toBe(0);
    expect(w.stats()).toMatchObject({ kept: 1, errors: 2 });
    expect(seen.get('done-keep')).toBeUndefined(); // final: no status poll
  });

  it('gives up keeping outputs KEEP_HORIZON_MS after the job finished: each output says why, with a log line', async () => {
    let tries = 0;
    const w = await start({
      intervalMs: 50, // retries after 100, 200, 400, … ms
      pollerFor: () => ({
        ledger: app.ledger,
        keepOutputs: async () => {
          tries++;
          throw new Error('bucket unreachable');
        },
      }),
    });
    const outputs = [{ url: `${base}/media/n.png`, kind: 'image' as const }];
    const job = await insert('done-never', {
      status: 'succeeded',
      outputs,
      finishedAt: Date.now() - KEEP_HORIZON_MS + 1_500,
    });
    w.start();
    await eventually(
      'the give-up line',
      async () => (lines.some((l) => l.includes(`job ${job.id}: gave up keeping its outputs`)) ? true : undefined),
      60_000,
    );
    expect(tries).toBeGreaterThan(1); // retried before giving up
    const row = await app.store.getJob(job.id);
    expect(row?.nextPollAt ?? null).toBeNull();
    expect(row?.outputs).toEqual([{ ...outputs[0], storeError: 'not kept: bucket unreachable' }]);
  }, 90_000);

  it('polls an open job to its end once per interval', async () => {
    const w = await start();
    const job = await insert('done-1');
    w.start();
    const done = await eventually('the job succeeded', async () => {
      const j = await app.store.getJob(job.id);
      return j?.status === 'succeeded' ? j : undefined;
    });
    expect(done.outputs).toHaveLength(1);
    expect(done.nextPollAt ?? null).toBeNull();
    expect(seen.get('done-1')).toHaveLength(1);
    expect(shortestGap(seen.get('done-1')!)).toBe(Infinity);
    expect(w.stats()).toMatchObject({ polls: 1, succeeded: 1 });
    expect(lines.filter((l) => l.includes(`job ${job.id}: running -> succeeded`))).toHaveLength(1);
  });
});
