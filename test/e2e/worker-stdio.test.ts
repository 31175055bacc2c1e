/**
 * The background worker of a stdio server (a real process, a real SQLite file, the sandbox counting every
 * request): a paid job reaches its end with no client call after the create, while the client sits idle
 * or after it has gone and another server process runs; a failed job is refunded and its credits leave
 * the cap; with the worker off (--no-worker, MEDIAGEN_WORKER=0) nothing is polled at all.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { phayaEnv, sc, T2I } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import {
  allFinal,
  allStatusPolls,
  eventually,
  expectSucceeded,
  quiet,
  statusPolls,
  withLedger,
} from '../helpers/worker.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  sandbox.reset();
});

async function serve(env: Record<string, string>, args: string[] = []): Promise<StdioServer> {
  const s = await spawnStdio(env, args);
  servers.push(s);
  return s;
}

async function create(s: StdioServer, prompt: string): Promise<{ id: string; providerJobId: string }> {
  const r = await s.call(T2I, { prompt });
  expect(r.isError, text(r)).toBeFalsy();
  return { id: sc(r).job_id as string, providerJobId: sc(r).provider_job_id as string };
}

/** Log lines of `stderr` that name a transition of job `id`. */
const transitions = (stderr: string, id: string): string[] =>
  stderr.split('\n').filter((l) => l.includes(`job ${id}: `) && l.includes(' -> '));

describe('the background worker of a stdio server', () => {
  it('finishes a job with zero client calls after the create, the client connected and idle', async () => {
    const env = phayaEnv(sandbox);
    const s = await serve(env);
    const job = await create(s, 'a lantern');
    const [done] = await allFinal({ stateDir: env.MEDIAGEN_STATE_DIR }, [job.id], 30_000);
    expectSucceeded([done]);
    expect(done.nextPollAt ?? null).toBeNull();
    // Exactly the polls the sandbox needs to finish it, and none after: the job is final.
    expect(statusPolls(sandbox, job.providerJobId)).toHaveLength(2);
    await quiet(500);
    expect(statusPolls(sandbox, job.providerJobId)).toHaveLength(2);
    // Each transition logged once, with the job id.
    const lines = transitions(s.stderr(), job.id);
    expect(lines.filter((l) => l.includes('-> succeeded'))).toHaveLength(1);
    expect(lines.every((l) => l.includes('"by":"worker"'))).toBe(true);
  });

  it('a job left by a server without a worker is finished by the next server process, which no client calls', async () => {
    const env = phayaEnv(sandbox);
    const first = await serve(env, ['--no-worker']);
    const job = await create(first, 'a paper lantern');
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const left = await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, (st) => st.getJob(job.id));
    expect(left?.status).toBe('pending');
    expect(statusPolls(sandbox, job.providerJobId)).toHaveLength(0);
    await serve(env); // connected, never called
    const [done] = await allFinal({ stateDir: env.MEDIAGEN_STATE_DIR }, [job.id], 30_000);
    expectSucceeded([done]);
  });

  it('a job that fails at the provider is refunded with nobody polling: its credits leave the cap', async () => {
    const env = phayaEnv(sandbox);
    const s = await serve(env, ['--cap-session', 'phaya=1', '--cap-day', 'phaya=1']);
    const job = await create(s, 'a lantern sandbox:fail');
    const [done] = await allFinal({ stateDir: env.MEDIAGEN_STATE_DIR }, [job.id], 30_000);
    expect(done.status).toBe('failed');
    const { reservation, totals } = await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, async (st) => ({
      reservation: await st.reservationOfJob(job.id),
      totals: (await st.spendTotals({})).find((t) => t.provider === 'phaya'),
    }));
    expect(reservation?.state).toBe('refunded');
    expect(totals).toMatchObject({ committed: 0, reserved: 0, uncertain: 0, refunded: 1 });
    // The line is written after the refund: the stderr pipe may deliver it a moment after the store says so.
    const line = `job ${job.id}: failed at the provider; 1 credits refunded`;
    await eventually('the refund logged', async () => (s.stderr().includes(line) ? true : undefined));
    // The cap of 1 credit is free again: the next paid call runs.
    await create(s, 'another lantern');
  });

  for (const [name, env, args] of [
    ['--no-worker', {}, ['--no-worker']],
    ['MEDIAGEN_WORKER=0', { MEDIAGEN_WORKER: '0' }, []],
  ] as const) {
    it(`${name}: the job stays pending and the provider sees no status poll`, async () => {
      const e = phayaEnv(sandbox, env);
      const s = await serve(e, [...args]);
      const job = await create(s, 'an unpolled lantern');
      await quiet(1_500); // 15 poll intervals
      expect(allStatusPolls(sandbox)).toBe(0);
      const still = await withLedger({ stateDir: e.MEDIAGEN_STATE_DIR }, (st) => st.getJob(job.id));
      expect(still?.status).toBe('pending');
    });
  }
});
