/**
 * A store conflict after the provider accepted never loses the job (issue 17, item 3): while a create is
 * out, jobs_track adopts the very provider job id the create is about to return. The create's own record
 * then meets that row: it is the same provider job, so the call is answered with it (one ledger row, the
 * reservation committed, the key settled), not an error. Built server over stdio, a real SQLite file, and a
 * loopback provider that holds the create's answer and counts requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { sc, totals, until } from '../helpers/money.js';
import { ACME_FILE } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import { connectHttp, spawnHttp, writeTokens } from '../helpers/http-server.js';

let provider: HostileProvider;
let server: StdioServer;
const CREATE = '/image/fast/create';

beforeAll(async () => {
  provider = await startHostileProvider();
  server = await spawnStdio(
    {
      ACME_API_KEY: ACME_KEY,
      ACME_BASE_URL: provider.url,
      MEDIAGEN_STATE_DIR: tempDir(),
      MEDIAGEN_HTTP_TIMEOUT_MS: '20000',
    },
    ['--catalogue', ACME_FILE],
  );
});
afterAll(async () => {
  await server?.close();
  await provider?.close();
});

describe('a store conflict after acceptance', () => {
  it('jobs_track adopted the provider job id while the create was out: the create answers with that job, one row, committed once', async () => {
    const release = provider.holdCreates();
    const args = { prompt: 'a paper boat', idempotency_key: 'conflict-after-accept-01' };
    const create = server.call('acme_image_create', args);
    await until(() => provider.hits(CREATE) === 1);
    const [providerJobId] = provider.jobIds();
    const tracked = await server.call('jobs_track', { tool: 'acme_image_create', provider_job_id: providerJobId });
    expect(tracked.isError, text(tracked)).toBeFalsy();
    const adoptedId = sc(tracked).job_id as string;
    release();

    const r = await create;
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ job_id: adoptedId, provider_job_id: providerJobId });

    const listed = sc(await server.call('jobs_list', {})).jobs as { job_id: string; provider_job_id: string }[];
    expect(listed.filter((j) => j.provider_job_id === providerJobId).map((j) => j.job_id)).toEqual([adoptedId]);
    expect(totals(await server.call('spend_report'), 'acme')).toMatchObject({
      committed: 2,
      reserved: 0,
      uncertain: 0,
    });

    const again = await server.call('acme_image_create', args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again)).toMatchObject({ job_id: adoptedId, reused: true });
    expect(provider.hits(CREATE)).toBe(1);
  });

  it('when that job later fails, the reservation committed to it is refunded', async () => {
    provider.setStatus('processing');
    const release = provider.holdCreates();
    const before = provider.hits(CREATE);
    const args = { prompt: 'a sinking paper boat', idempotency_key: 'conflict-after-accept-02' };
    const create = server.call('acme_image_create', args);
    await until(() => provider.hits(CREATE) === before + 1);
    const providerJobId = provider.jobIds().at(-1)!;
    const tracked = await server.call('jobs_track', { tool: 'acme_image_create', provider_job_id: providerJobId });
    expect(tracked.isError, text(tracked)).toBeFalsy();
    const adoptedId = sc(tracked).job_id as string;
    release();
    const r = await create;
    expect(sc(r)).toMatchObject({ job_id: adoptedId });
    const committed = Number(totals(await server.call('spend_report'), 'acme')?.committed);

    provider.setStatus('failed');
    const got = await server.call('jobs_get', { job_id: adoptedId });
    expect(sc(got)).toMatchObject({ status: 'failed' });
    // The create's reservation (2 credits) was committed to the adopted job: its failure refunds it.
    expect(totals(await server.call('spend_report'), 'acme')).toMatchObject({
      committed: committed - 2,
      refunded: 2,
      reserved: 0,
      uncertain: 0,
    });
    expect(provider.hits(CREATE)).toBe(before + 1);
  });
});

describe('a store conflict with another principal after acceptance (HTTP, two bearer tokens)', () => {
  it("bob adopted the provider job id first: alice's create is OUTCOME_UNKNOWN, its reservation uncertain (not reserved), one create", async () => {
    const hostile = await startHostileProvider();
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {}, bob: {} });
    const http = await spawnHttp(
      { ACME_API_KEY: ACME_KEY, ACME_BASE_URL: hostile.url, MEDIAGEN_STATE_DIR: dir, MEDIAGEN_HTTP_TIMEOUT_MS: '3000' },
      ['--catalogue', ACME_FILE, '--tokens-file', t.file],
    );
    const alice = await connectHttp(http.url, t.tokens.alice);
    const bob = await connectHttp(http.url, t.tokens.bob);
    try {
      const release = hostile.holdCreates();
      const create = alice.call('acme_image_create', { prompt: 'a kite', idempotency_key: 'conflict-principal-01' });
      await until(() => hostile.hits(CREATE) === 1);
      const [providerJobId] = hostile.jobIds();
      const stolen = await bob.call('jobs_track', { tool: 'acme_image_create', provider_job_id: providerJobId });
      expect(stolen.isError, text(stolen)).toBeFalsy();
      release();
      const r = await create;
      expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
      expect(sc(r)).toMatchObject({ provider_job_id: providerJobId });
      expect(totals(await alice.call('spend_report'), 'acme')).toMatchObject({ reserved: 0, uncertain: 2 });
      const again = await alice.call('acme_image_create', {
        prompt: 'a kite',
        idempotency_key: 'conflict-principal-01',
      });
      expect(sc(again).code, text(again)).toBe('OUTCOME_UNKNOWN');
      expect(hostile.hits(CREATE)).toBe(1);
    } finally {
      await alice.close();
      await bob.close();
      await http.stop();
      await hostile.close();
    }
  });
});
