/**
 * The background worker and the ledger under faults, over a real app, a real SQLite store and a real
 * provider on loopback (the Acme test catalogue's wire): a failed job's refund that the store refused is
 * made later by the worker; a stale status answer never changes a job already final (nor refunds it); a
 * poll that waited for the shared rate limit and sent nothing is not an error; a keep longer than the
 * lease holds its lease (one keep, no error).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { utcDay } from '../../src/guard/budget.js';
import { Worker, type Poller } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { SQLITE_FILE } from '../../src/store/open.js';
import { openDatabase } from '../../src/store/sqlite-driver.js';
import type { JobRecord } from '../../src/store/store.js';
import { runningJob } from '../store/contract-fixtures.js';
import { tempDir } from '../helpers/in-memory.js';
import { ACME_FILE } from '../helpers/paths.js';
import { eventually, quiet } from '../helpers/worker.js';

const KEY = 'acme-faults-key';
const seen = new Map<string, number>();
/** Answers held back until released (a slow status answer), by provider job id. */
const held = new Map<string, () => void>();
let provider: Server;
let base: string;

beforeAll(async () => {
  provider = createServer((req, res) => {
    const id = /^\/image\/status\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    req.resume();
    if (!id || req.headers.authorization !== `Bearer ${KEY}`) return void res.writeHead(404).end();
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const answer = (body: object): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (id.startsWith('fail')) return answer({ status: 'failed', error: 'content policy' });
    if (id.startsWith('slowfail')) return void held.set(id, () => answer({ status: 'failed', error: 'late word' }));
    answer({ status: 'completed', image_url: [`${base}/media/${id}.png`] });
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => provider.close(() => r())));

let app: App;
let stateDir: string;
const workers: Worker[] = [];
const lines: string[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await app?.close(true);
  lines.length = 0;
});

async function start(env: Record<string, string> = {}): Promise<void> {
  stateDir = tempDir();
  const { config } = loadConfig(['--catalogue', ACME_FILE], {
    MEDIAGEN_STATE_DIR: stateDir,
    ACME_API_KEY: KEY,
    ACME_BASE_URL: base,
    MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
    MEDIAGEN_POLL_MS: '20',
    ...env,
  });
  app = await createApp(
    config,
    createLogger('info', [], (l) => lines.push(l)),
  );
}

function worker(opts: { pollerFor?: (job: JobRecord) => Poller | undefined; leaseMs?: number } = {}): Worker {
  const w = new Worker({
    store: app.store,
    logger: createLogger('info', [], (l) => lines.push(l)),
    concurrency: 4,
    intervalMs: 20,
    leaseMs: opts.leaseMs ?? 60_000,
    idleMs: 100,
    pollerFor: opts.pollerFor ?? (() => app),
  });
  workers.push(w);
  return w;
}

/** A running job of `providerJobId`, with its committed 2-credit reservation. */
async function insert(providerJobId: string, extra: Partial<JobRecord> = {}): Promise<JobRecord> {
  const now = Date.now();
  const job = runningJob(providerJobId, now, extra);
  await app.store.insertJob(job);
  const res = await app.store.reserve({
    id: `res_${providerJobId}`,
    provider: 'acme',
    tool: job.tool,
    callerId: job.callerId,
    principal: 'local',
    day: utcDay(now),
    credits: 2,
    argsHash: 'x',
    now,
  });
  expect(res.ok).toBe(true);
  await app.store.commit(`res_${providerJobId}`, job.id, now);
  return job;
}

const stateOf = async (providerJobId: string): Promise<string | undefined> =>
  (await app.store.getReservation(`res_${providerJobId}`))?.state;

describe('the background worker under faults', () => {
  it('a failed job whose refund the store refused is refunded later by the worker, with no caller', async () => {
    await start();
    const job = await insert('fail-1');
    // A real store fault on the refund only: another connection makes every refund abort.
    const other = openDatabase(join(stateDir, SQLITE_FILE));
    other.exec(`CREATE TRIGGER refund_fault BEFORE UPDATE OF state ON reservations WHEN NEW.state = 'refunded'
      BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    const w = worker();
    w.start();
    await eventually('the job failed', async () =>
      (await app.store.getJob(job.id))?.status === 'failed' ? true : undefined,
    );
    await eventually('a refund refused', async () =>
      lines.some((l) => l.includes(`the refund of failed job ${job.id} failed; will retry`)) ? true : undefined,
    );
    expect(await stateOf('fail-1')).toBe('committed');
    other.exec('DROP TRIGGER refund_fault');
    other.close();
    await eventually('the reservation refunded', async () =>
      (await stateOf('fail-1')) === 'refunded' ? true : undefined,
    );
    const row = await eventually('nothing left to do', async () => {
      const j = await app.store.getJob(job.id);
      return j?.nextPollAt === null ? j : undefined;
    });
    expect(row.status).toBe('failed');
    expect(seen.get('fail-1')).toBe(1); // the provider was asked once; the refund was retried on our side
    expect(w.stats()).toMatchObject({ failed: 1, refunded: 1, refundedCredits: 2 });
  });

  it('a job another process recorded failed, its refund not made, while this worker polled it: refunded here', async () => {
    await start();
    const job = await insert('slowfail-2');
    const w = worker();
    w.start();
    await eventually('the worker polled', async () => (held.has('slowfail-2') ? true : undefined));
    // Meanwhile another process recorded the failure and its refund threw: the job is final and due.
    const at = Date.now();
    await app.store.updateJob(job.id, { status: 'failed', finishedAt: at, error: 'x', nextPollAt: at }, at);
    held.get('slowfail-2')!();
    await eventually('the reservation refunded', async () =>
      (await stateOf('slowfail-2')) === 'refunded' ? true : undefined,
    );
    const row = await eventually('nothing left to do', async () => {
      const j = await app.store.getJob(job.id);
      return j?.nextPollAt === null ? j : undefined;
    });
    expect(row).toMatchObject({ status: 'failed', error: 'x' });
    expect(seen.get('slowfail-2')).toBe(1);
  });

  it('a stale status answer never changes a job recorded final meanwhile, nor refunds it', async () => {
    await start();
    const job = await insert('slowfail-1');
    const polling = app.ledger.poll(job.id); // a caller's poll: its answer comes late
    await eventually('the poll sent', async () => (held.has('slowfail-1') ? true : undefined));
    // Meanwhile another replica's poll recorded success, and the output was kept.
    const outputs = [{ url: `${base}/media/s.png`, kind: 'image' as const, storedKey: 'outputs/s.png' }];
    const finishedAt = Date.now();
    await app.store.updateJob(job.id, { status: 'succeeded', outputs, finishedAt, nextPollAt: null }, finishedAt);
    held.get('slowfail-1')!();
    const answered = await polling;
    expect(answered).toMatchObject({ status: 'succeeded', outputs, finishedAt });
    expect(await app.store.getJob(job.id)).toMatchObject({ status: 'succeeded', outputs, finishedAt, error: null });
    expect(await stateOf('slowfail-1')).toBe('committed');
  });

  it('a poll that waited for the shared rate limit and sent nothing is given back, not counted as an error', async () => {
    await start({ MEDIAGEN_RATE_LIMIT: 'acme=1/30' });
    const a = await insert('done-r1');
    const b = await insert('done-r2');
    const w = worker({ leaseMs: 400 }); // a poll may wait 300 ms
    w.start();
    await eventually('one job polled', async () =>
      (seen.get('done-r1') ?? 0) + (seen.get('done-r2') ?? 0) ? true : undefined,
    );
    await quiet(1_500);
    expect((seen.get('done-r1') ?? 0) + (seen.get('done-r2') ?? 0)).toBe(1); // the limit held
    expect(w.stats().errors).toBe(0);
    for (const j of [a, b]) expect((await app.store.getJob(j.id))?.pollErrors).toBe(0);
    expect(lines.filter((l) => l.includes('status poll of job'))).toEqual([]);
  });

  it('a keep longer than the lease holds its lease: one keep, no error, no second copy by another worker', async () => {
    await start();
    let starts = 0;
    const keeper = (): Poller => ({
      ledger: app.ledger,
      keepOutputs: async (job, signal) => {
        starts++;
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 1_500);
          signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
        });
        return job;
      },
    });
    const job = await insert('done-keep', {
      status: 'succeeded',
      outputs: [{ url: `${base}/media/k.png`, kind: 'image' }],
      finishedAt: Date.now(),
    });
    const first = worker({ leaseMs: 600, pollerFor: keeper });
    const second = worker({ leaseMs: 600, pollerFor: keeper });
    first.start();
    second.start();
    await eventually(
      'the outputs kept',
      async () => (first.stats().kept + second.stats().kept ? true : undefined),
      20_000,
    );
    await eventually('the lease given back', async () =>
      (await app.store.getJob(job.id))?.nextPollAt === null ? true : undefined,
    );
    expect(starts).toBe(1);
    expect(first.stats().errors + second.stats().errors).toBe(0);
  });
});
