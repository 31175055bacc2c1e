/**
 * A server sharing its state directory with others (an HTTP server's tenants, another replica) leases
 * only the jobs it can poll: its principals' (stdio: its own), of the providers it has a key for. Other
 * due jobs are left exactly as they were (their next poll time is not pushed out for everybody), and
 * nothing is sent for them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { phayaEnv, sc, T2I } from '../helpers/money.js';
import { spawnHttp } from '../helpers/http-server.js';
import { spawnStdio, text } from '../helpers/stdio.js';
import type { JobRecord } from '../../src/store/store.js';
import { runningJob } from '../store/contract-fixtures.js';
import { allFinal, eventually, expectSucceeded, quiet, statusPolls, withLedger } from '../helpers/worker.js';

let sandbox: Sandbox;
afterAll(() => sandbox?.close());

describe('the background worker of a stdio server sharing a state directory', () => {
  it("leaves another principal's due job untouched and unpolled while it polls its own", async () => {
    sandbox = await startSandbox({ pollsToComplete: 2 });
    const env = phayaEnv(sandbox);
    const now = Date.now();
    const theirs = runningJob('tenant-b-job', now, {
      id: `job_${now.toString(36)}tenantb000000000`,
      provider: 'phaya',
      tool: T2I,
      args: { prompt: 'theirs' },
      price: 1,
      callerId: 'http:tenant-b',
      principal: 'tenant-b',
    });
    await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, (st) => st.insertJob(theirs));
    const s = await spawnStdio(env);
    try {
      const r = await s.call(T2I, { prompt: 'ours' });
      expect(r.isError, text(r)).toBeFalsy();
      const [done] = await allFinal({ stateDir: env.MEDIAGEN_STATE_DIR }, [sc(r).job_id as string], 30_000);
      expectSucceeded([done]);
      await quiet(500);
      const row = await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, (st) => st.getJob(theirs.id));
      expect(row).toMatchObject({ status: 'running', nextPollAt: now, pollErrors: 0 });
      expect(statusPolls(sandbox, 'tenant-b-job')).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('an HTTP server leaves jobs of principals it has no token for, and of providers it has no key for', async () => {
    sandbox ??= await startSandbox({ pollsToComplete: 2 });
    const env = phayaEnv(sandbox); // a key for phaya only; no tokens file: the local principal only
    const now = Date.now();
    const job = (id: string, over: Partial<JobRecord>): JobRecord =>
      runningJob(id, now, {
        id: `job_${now.toString(36)}${id.padEnd(16, '0')}`,
        provider: 'phaya',
        tool: T2I,
        args: { prompt: id },
        price: 1,
        callerId: 'http:x',
        ...over,
      });
    const tenants = job('tenantc', { principal: 'tenant-c' });
    const noKey = job('nokey', { provider: 'ph0ny' });
    const ours = job('oursunknown', {}); // the sandbox does not know it: the worker's poll fails, and counts
    await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, async (st) => {
      for (const j of [tenants, noKey, ours]) await st.insertJob(j);
    });
    const s = await spawnHttp(env);
    try {
      await eventually('our job polled', async () => (statusPolls(sandbox, 'oursunknown').length ? true : undefined));
      await quiet(500);
      await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, async (st) => {
        for (const j of [tenants, noKey])
          expect(await st.getJob(j.id)).toMatchObject({ nextPollAt: now, pollErrors: 0 });
      });
      expect(statusPolls(sandbox, 'tenantc')).toHaveLength(0);
    } finally {
      await s.stop();
    }
  });
});
