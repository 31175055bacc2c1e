/**
 * A stdio server sharing its state directory with others (an HTTP server's tenants, another replica)
 * leases only the jobs it can poll: its own principal's. Another principal's due job is left exactly as
 * it was (its next poll time is not pushed out for everybody), and nothing is sent for it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { phayaEnv, sc, T2I } from '../helpers/money.js';
import { spawnStdio, text } from '../helpers/stdio.js';
import { allFinal, expectSucceeded, quiet, statusPolls, withLedger } from '../helpers/worker.js';

let sandbox: Sandbox;
afterAll(() => sandbox?.close());

describe('the background worker of a stdio server sharing a state directory', () => {
  it("leaves another principal's due job untouched and unpolled while it polls its own", async () => {
    sandbox = await startSandbox({ pollsToComplete: 2 });
    const env = phayaEnv(sandbox);
    const now = Date.now();
    const theirs = {
      id: `job_${now.toString(36)}tenantb000000000`,
      provider: 'phaya',
      tool: T2I,
      providerJobId: 'tenant-b-job',
      argsHash: 'x',
      args: { prompt: 'theirs' },
      price: 1,
      callerId: 'http:tenant-b',
      principal: 'tenant-b',
      status: 'running' as const,
      providerStatus: 'processing',
      progress: null,
      outputs: [],
      error: null,
      polls: 0,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      nextPollAt: now,
    };
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
});
