/**
 * The background worker of an --auth oauth server: OAuth principals are not known at start, so it polls a
 * principal's jobs only once that principal has called (and its settings are known); until then they are
 * left exactly as they were, and nothing is sent for them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/store/store.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { phayaEnv, T2I } from '../helpers/money.js';
import { freePort } from '../helpers/oauth-e2e.js';
import { startAuthServer, type TestAuthServer } from '../helpers/oidc.js';
import { eventually, quiet, statusPolls, withLedger } from '../helpers/worker.js';
import { runningJob } from '../store/contract-fixtures.js';

let as: TestAuthServer;
let sandbox: Sandbox;
let server: HttpServerProcess;
let env: Record<string, string>;
let resource: string;
const now = Date.now();
const job = (id: string, principal: string): JobRecord =>
  runningJob(id, now, {
    id: `job_${now.toString(36)}${id.padEnd(16, '0')}`,
    provider: 'phaya',
    tool: T2I,
    args: { prompt: id },
    price: 1,
    callerId: `http:${principal}`,
    principal,
  });
const alices = job('alicejob', 'oauth:alice');
const bobs = job('bobjob', 'oauth:bob');
// A tokens-file principal named like the subject: never the OAuth subject's (ids are `oauth:<sub>`).
const tokensAlice = job('tokensalice', 'alice');

beforeAll(async () => {
  [as, sandbox] = await Promise.all([startAuthServer(), startSandbox({ pollsToComplete: 2 })]);
  env = phayaEnv(sandbox);
  await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, async (st) => {
    for (const j of [alices, bobs, tokensAlice]) await st.insertJob(j);
  });
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  server = await spawnHttp(env, [
    '--port',
    String(port),
    '--auth',
    'oauth',
    '--oauth-issuer',
    as.issuer,
    '--public-url',
    `http://127.0.0.1:${port}`,
  ]);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([as?.stop(), sandbox?.close()]);
});

describe('the worker of an --auth oauth server', () => {
  it("polls a principal's jobs only once it has called; another's are left untouched until it calls", async () => {
    const bob = await connectHttp(server.url, await as.mintToken({ audience: resource, subject: 'bob' }));
    try {
      expect((await bob.call('jobs_list', {})).isError).toBeFalsy();
      await eventually("bob's job polled", async () => (statusPolls(sandbox, 'bobjob').length ? true : undefined));
      await quiet(500);
      expect(statusPolls(sandbox, 'alicejob')).toHaveLength(0);
      const row = await withLedger({ stateDir: env.MEDIAGEN_STATE_DIR }, (st) => st.getJob(alices.id));
      expect(row).toMatchObject({ status: 'running', nextPollAt: now, pollErrors: 0 });
    } finally {
      await bob.close();
    }
    const alice = await connectHttp(server.url, await as.mintToken({ audience: resource, subject: 'alice' }));
    try {
      expect((await alice.call('jobs_list', {})).isError).toBeFalsy();
      await eventually("alice's job polled", async () => (statusPolls(sandbox, 'alicejob').length ? true : undefined));
      const list = await alice.call('jobs_list', {});
      expect(JSON.stringify(list.structuredContent)).toContain(alices.id);
      expect(JSON.stringify(list.structuredContent)).not.toContain(tokensAlice.id);
      expect(statusPolls(sandbox, 'tokensalice')).toHaveLength(0);
    } finally {
      await alice.close();
    }
  });
});
