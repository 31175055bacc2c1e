/**
 * A job past its operation's time limit, with nobody waiting (a real stdio server, its background worker,
 * a loopback provider whose jobs stay `processing` until the test says otherwise): it is not refunded on
 * our clock and is still polled, at the slow rate (interval × 20 with MEDIAGEN_POLL_MS); the provider's
 * final word is recorded, and only a failure the provider reports is refunded. A job undecided 48 h past
 * its limit is polled once more and then given up (never polled again, nothing refunded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { sc } from '../helpers/money.js';
import { quickTimeoutCatalogue } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import { eventually, quiet, withLedger } from '../helpers/worker.js';

const POLL_MS = 50;
const SLOW_MS = POLL_MS * 20;

describe('a job past its time limit, polled by the background worker', () => {
  let hostile: HostileProvider;
  let server: StdioServer;
  const stateDir = tempDir();
  beforeAll(async () => {
    hostile = await startHostileProvider();
    hostile.setOutputs([`${hostile.url}/media/late.png`]);
    server = await spawnStdio(
      {
        ACME_API_KEY: ACME_KEY,
        ACME_BASE_URL: hostile.url,
        MEDIAGEN_STATE_DIR: stateDir,
        MEDIAGEN_POLL_MS: String(POLL_MS),
      },
      ['--catalogue', quickTimeoutCatalogue()],
    );
  });
  afterAll(async () => {
    await server?.close();
    await hostile?.close();
  });

  it('is not refunded on our clock, is polled at the slow rate, and is refunded only when the provider says failed', async () => {
    hostile.setStatus('processing');
    const created = await server.call('acme_image_create', { prompt: 'a late boat' });
    expect(created.isError, text(created)).toBeFalsy();
    const id = sc(created).job_id as string;
    const path = `/image/status/${sc(created).provider_job_id as string}`;
    await eventually('the timed-out line', async () =>
      server.stderr().includes(`job ${id}: past its time limit`) ? true : undefined,
    );
    // From here on: slow polls only, and still polls.
    const from = hostile.hits(path);
    const started = Date.now();
    await quiet(3 * SLOW_MS + 200);
    const polled = hostile.hits(path) - from;
    const elapsed = Date.now() - started;
    expect(polled).toBeGreaterThanOrEqual(1);
    expect(polled).toBeLessThanOrEqual(Math.floor(elapsed / SLOW_MS) + 1);
    const open = await withLedger({ stateDir }, async (st) => ({
      job: await st.getJob(id),
      reservation: await st.reservationOfJob(id),
    }));
    expect(open.job?.status).toBe('running');
    expect(open.reservation?.state).toBe('committed');
    // The provider decides: failed. Recorded and refunded, with no client call.
    hostile.setStatus('failed');
    const settled = await withLedger({ stateDir }, (st) =>
      eventually('the failure recorded', async () => {
        const r = await st.reservationOfJob(id);
        return r?.state === 'refunded' ? { job: await st.getJob(id), r } : undefined;
      }),
    );
    expect(settled.job?.status).toBe('failed');
    expect(settled.job?.nextPollAt ?? null).toBeNull();
    const lines = server.stderr().split('\n');
    const mine = lines.filter((l) => l.includes(`job ${id}: `)).join('\n');
    expect(
      lines.filter((l) => l.includes(`job ${id}: past its time limit`)),
      mine,
    ).toHaveLength(1);
    expect(
      lines.filter((l) => l.includes(`job ${id}: running -> failed`)),
      mine,
    ).toHaveLength(1);
  });

  it('undecided 48 h past its limit: polled once more, then given up for good (nothing refunded)', async () => {
    hostile.setStatus('processing');
    hostile.addJob('h-ancient', [`${hostile.url}/media/old.png`]);
    const created = Date.now() - 49 * 3_600_000;
    const id = `job_${created.toString(36)}00112233445566ff`;
    await withLedger({ stateDir }, (st) =>
      st.insertJob({
        id,
        provider: 'acme',
        tool: 'acme_image_create',
        providerJobId: 'h-ancient',
        argsHash: 'x',
        args: { prompt: 'an ancient boat' },
        price: 2,
        callerId: 'stdio:elsewhere',
        principal: 'local',
        status: 'running',
        providerStatus: 'processing',
        progress: null,
        outputs: [],
        error: null,
        polls: 1,
        createdAt: created,
        updatedAt: created,
        finishedAt: null,
      }),
    );
    const path = '/image/status/h-ancient';
    await eventually('the gave-up line', async () =>
      server.stderr().includes(`job ${id}: gave up`) ? true : undefined,
    );
    await quiet(3 * SLOW_MS);
    expect(hostile.hits(path)).toBe(1);
    const job = await withLedger({ stateDir }, (st) => st.getJob(id));
    expect(job?.status).toBe('running');
    expect(job?.nextPollAt ?? null).toBeNull();
  });
});
