/**
 * Two stdio server processes on one SQLite file share 20 open jobs through their background workers: each
 * job is polled by one worker at a time (no two polls of a job less than an interval apart, beyond a 25 ms
 * slack for clock rounding), and after one process is killed with SIGKILL mid-way the other finishes every
 * job once the dead one's leases run out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { phayaEnv, sc, T2I, until } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import { allStatusPolls, expectTakenOver } from '../helpers/worker.js';

const JOBS = 20;
const POLLS = 6;
const POLL_MS = 300;
const LEASE_MS = 3_000;
// Phaya's own limit (60 a minute) would pace these polls; here the workers run unpaced.
const ARGS = ['--rate-limit', 'phaya=off'];
let sandbox: Sandbox;
let a: StdioServer;
let b: StdioServer;
let env: Record<string, string>;

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: POLLS });
  env = phayaEnv(sandbox, { MEDIAGEN_POLL_MS: String(POLL_MS), MEDIAGEN_WORKER_LEASE_MS: String(LEASE_MS) });
  [a, b] = await Promise.all([spawnStdio(env, ARGS), spawnStdio(env, ARGS)]);
});

afterAll(async () => {
  await a?.close().catch(() => undefined);
  await b?.close().catch(() => undefined);
  await sandbox?.close();
});

describe('background workers of two processes on one SQLite file', () => {
  it('share 20 open jobs with one poller per job; after a SIGKILL of one the other finishes every job', async () => {
    const jobs: { id: string; providerJobId: string }[] = [];
    const made = await Promise.all(
      Array.from({ length: JOBS }, (_, i) => (i % 2 ? b : a).call(T2I, { prompt: `shared file ${i}` })),
    );
    for (const r of made) {
      expect(r.isError, text(r)).toBeFalsy();
      jobs.push({ id: sc(r).job_id as string, providerJobId: sc(r).provider_job_id as string });
    }
    await until(() => allStatusPolls(sandbox) >= (JOBS * POLLS) / 3, 60_000);
    process.kill(a.pid!, 'SIGKILL');
    await expectTakenOver(
      { stateDir: env.MEDIAGEN_STATE_DIR },
      jobs,
      sandbox,
      { polls: POLLS, pollMs: POLL_MS, slackMs: 25, maxExtra: 4 /* A's concurrency */ },
      [() => a.stderr(), () => b.stderr()],
    );
  }, 180_000);
});
