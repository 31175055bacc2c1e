/**
 * Two HTTP replicas (real processes) on one real PostgreSQL database share 50 open jobs through their
 * background workers: the sandbox's request log shows each job polled by one worker at a time (no two
 * polls of a job less than an interval apart, beyond a 25 ms slack for clock rounding), and after one
 * replica is killed with SIGKILL mid-way the other finishes every job once the dead one's leases run out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectHttp, spawnHttp, type HttpClient, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { PHAYA_DEFAULT, sc, T2I, until } from '../helpers/money.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { text } from '../helpers/stdio.js';
import { allStatusPolls, expectTakenOver } from '../helpers/worker.js';

requirePg('background workers of two replicas on PostgreSQL');
const JOBS = 50;
const POLLS = 6;
const POLL_MS = 300;
const LEASE_MS = 3_000;
let sandbox: Sandbox;
let db: { url: string; drop: () => Promise<void> };
let a: HttpServerProcess;
let b: HttpServerProcess;
const clients: HttpClient[] = [];

beforeAll(async () => {
  if (!HAS_PG) return;
  sandbox = await startSandbox({ pollsToComplete: POLLS });
  db = await freshDatabase();
  const env = {
    PHAYA_BASE: sandbox.baseUrl('phaya', PHAYA_DEFAULT),
    PHAYA_API_KEY: sandbox.key,
    MEDIAGEN_POLL_MS: String(POLL_MS),
    MEDIAGEN_WORKER_LEASE_MS: String(LEASE_MS),
    DATABASE_URL: db.url,
  };
  const args = ['--stateless', '--http-rate', 'off', '--rate-limit', 'phaya=off'];
  [a, b] = await Promise.all([
    spawnHttp({ ...env, MEDIAGEN_STATE_DIR: tempDir() }, args),
    spawnHttp({ ...env, MEDIAGEN_STATE_DIR: tempDir() }, args),
  ]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await a?.stop();
  await b?.stop();
  await sandbox?.close();
  await db?.drop();
});

describe.runIf(HAS_PG)('background workers of two replicas on one PostgreSQL database', () => {
  it('share 50 open jobs with one poller per job; after a SIGKILL of one the other finishes every job', async () => {
    const [ca, cb] = await Promise.all([connectHttp(a.url), connectHttp(b.url)]);
    clients.push(ca, cb);
    const jobs: { id: string; providerJobId: string }[] = [];
    for (let batch = 0; batch < JOBS / 10; batch++) {
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? cb : ca).call(T2I, { prompt: `shared ${batch}-${i}` })),
      );
      for (const r of made) {
        expect(r.isError, text(r)).toBeFalsy();
        jobs.push({ id: sc(r).job_id as string, providerJobId: sc(r).provider_job_id as string });
      }
    }
    // No client call from here on. Mid-way (a third of the polls in), replica A dies holding leases.
    await until(() => allStatusPolls(sandbox) >= (JOBS * POLLS) / 3, 60_000);
    a.proc.kill('SIGKILL');
    await a.exited;
    await expectTakenOver(
      { stateDir: tempDir(), databaseUrl: db.url },
      jobs,
      sandbox,
      { polls: POLLS, pollMs: POLL_MS, slackMs: 25, maxExtra: 4 /* A's concurrency */ },
      [() => a.stderr(), () => b.stderr()],
    );
  }, 180_000);
});
