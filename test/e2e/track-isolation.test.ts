/**
 * jobs_track on the money path, through real clients, the real server and the sandbox's request counter:
 * - over HTTP, a provider job id in the ledger is its principal's: bob's jobs_track of alice's provider job
 *   id is NOT_FOUND (the words of an id nobody knows) and sends nothing; alice's repeat gets her own job,
 *   with no second record;
 * - a reservation whose create is still in flight is refused (IN_PROGRESS) and the create's job is kept;
 * - after jobs_track settles an unknown outcome, the call's idempotency key answers with the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH, totals, until } from '../helpers/money.js';
import { createJob } from '../helpers/phaya-wire.js';
import {
  connectHttp,
  spawnHttp,
  writeTokens,
  type HttpClient,
  type HttpServerProcess,
} from '../helpers/http-server.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const CREATE = '/text-to-image/generate';
const jobIds = (r: Awaited<ReturnType<HttpClient['call']>>): string[] =>
  ((sc(r).jobs ?? []) as { job_id: string }[]).map((j) => j.job_id);

describe('jobs_track across principals (HTTP, two bearer tokens, one store)', () => {
  let sandbox: Sandbox;
  let server: HttpServerProcess;
  let alice: HttpClient;
  let bob: HttpClient;

  beforeAll(async () => {
    sandbox = await startSandbox({ pollsToComplete: 2 });
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {}, bob: {} });
    // These tests count every provider request one call makes, status polls included: no background worker.
    server = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir, MEDIAGEN_WORKER: '0' }), [
      '--tokens-file',
      t.file,
    ]);
    alice = await connectHttp(server.url, t.tokens.alice);
    bob = await connectHttp(server.url, t.tokens.bob);
  });
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await server?.stop();
    await sandbox?.close();
  });

  it("bob's jobs_track of alice's provider job id is NOT_FOUND with zero provider requests; he cannot get or cancel it", async () => {
    const created = await alice.call(T2I, { prompt: 'a private lighthouse' });
    expect(created.isError, text(created)).toBeFalsy();
    const jobId = String(sc(created).job_id);
    const providerJobId = String(sc(created).provider_job_id);
    // A job alice made elsewhere and adopted is hers just the same.
    const elsewhere = await createJob(sandbox, CREATE, { prompt: 'made on the dashboard' });
    const adopted = await alice.call('jobs_track', { tool: T2I, provider_job_id: elsewhere });
    expect(adopted.isError, text(adopted)).toBeFalsy();
    // Bob's own uncertain reservation does not help him either.
    const lost = await bob.call(T2I, { prompt: 'a kite sandbox:lost' });
    expect(sc(lost).code, text(lost)).toBe('OUTCOME_UNKNOWN');

    const before = sandbox.stats().total;
    const tries = [
      { tool: T2I, provider_job_id: providerJobId },
      { tool: T2I, provider_job_id: elsewhere },
      { tool: T2I, provider_job_id: providerJobId, reservation_id: String(sc(lost).reservation) },
    ];
    const answers = [];
    for (const a of tries) answers.push(await bob.call('jobs_track', a));
    expect(sandbox.stats().total - before).toBe(0);
    // The same words as an id the provider never heard of (that one is asked about, and says 404).
    const never = await bob.call('jobs_track', { tool: T2I, provider_job_id: 'no-such-job-000' });
    expect(sc(never).code, text(never)).toBe('NOT_FOUND');
    for (const [i, r] of answers.entries()) {
      expect(r.isError, text(r)).toBe(true);
      expect(sc(r).code, text(r)).toBe('NOT_FOUND');
      expect(text(r).replace(tries[i].provider_job_id, 'ID')).toBe(text(never).replace('no-such-job-000', 'ID'));
    }

    // Nothing was recorded for bob, and alice's job stays out of his reach.
    expect(jobIds(await bob.call('jobs_list', {}))).toEqual([]);
    const mark = sandbox.stats().total;
    for (const tool of ['jobs_get', 'jobs_cancel']) {
      const r = await bob.call(tool, { job_id: jobId });
      expect(sc(r).code, tool).toBe('NOT_FOUND');
    }
    expect(sandbox.stats().total - mark).toBe(0);
    expect(totals(await bob.call('spend_report'), 'phaya')).toMatchObject({ committed: 0, uncertain: 1 });
    const w = await alice.call('jobs_wait', { job_id: jobId, wait_seconds: 10 });
    expect(sc(w).status, text(w)).toBe('succeeded');
  });

  it("alice's repeat jobs_track of her own provider job ids answers with her existing jobs: one record each", async () => {
    const created = await alice.call(T2I, { prompt: 'a lighthouse twice' });
    const providerJobId = String(sc(created).provider_job_id);
    const elsewhere = await createJob(sandbox, CREATE, { prompt: 'adopted twice' });
    const first = await alice.call('jobs_track', { tool: T2I, provider_job_id: elsewhere });
    expect(first.isError, text(first)).toBeFalsy();
    for (let i = 0; i < 3; i++) {
      const again = await alice.call('jobs_track', { tool: T2I, provider_job_id: elsewhere });
      expect(again.isError, text(again)).toBeFalsy();
      expect(sc(again)).toMatchObject({ job_id: sc(first).job_id, already_tracked: true });
      const own = await alice.call('jobs_track', { tool: T2I, provider_job_id: providerJobId });
      expect(own.isError, text(own)).toBeFalsy();
      expect(sc(own)).toMatchObject({ job_id: sc(created).job_id, price: 1, already_tracked: true });
    }
    const list = (await alice.call('jobs_list', { limit: 100 })).structuredContent as {
      jobs: { job_id: string; provider_job_id: string }[];
    };
    expect(list.jobs.filter((j) => j.provider_job_id === elsewhere).map((j) => j.job_id)).toEqual([sc(first).job_id]);
    expect(list.jobs.filter((j) => j.provider_job_id === providerJobId).map((j) => j.job_id)).toEqual([
      sc(created).job_id,
    ]);
    // Tracking charged nothing: alice's spend is her two creates (this test's and the previous one's).
    expect(totals(await alice.call('spend_report'), 'phaya')).toMatchObject({ committed: 2, uncertain: 0 });
  });
});

describe('jobs_track of a reservation, over stdio', () => {
  let sandbox: Sandbox;
  const servers: StdioServer[] = [];
  const serve = async (extra: Record<string, string> = {}): Promise<StdioServer> => {
    const s = await spawnStdio(
      phayaEnv(sandbox, { MEDIAGEN_HTTP_TIMEOUT_MS: '10000', MEDIAGEN_WORKER: '0', ...extra }),
    );
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ slowMs: 6_000, pollsToComplete: 2 });
  });
  afterAll(async () => {
    while (servers.length) await servers.pop()!.close();
    await sandbox?.close();
  });

  it('refuses a reservation whose create is still in flight (IN_PROGRESS, nothing sent); that create then records its job', async () => {
    const s = await serve();
    const elsewhere = await createJob(sandbox, CREATE, { prompt: 'a job to pass off as that one' });
    const base = hits(sandbox, T2I_PATH);
    const first = s.call(T2I, { prompt: 'a lantern sandbox:late' });
    await until(() => hits(sandbox, T2I_PATH) === base + 1);
    const report = await s.call('spend_report');
    const entries = sc(report).entries as { reservation: string; state: string }[];
    expect(entries.map((e) => e.state)).toEqual(['reserved']);
    const before = sandbox.stats().total;
    const r = await s.call('jobs_track', {
      tool: T2I,
      provider_job_id: elsewhere,
      reservation_id: entries[0].reservation,
    });
    expect(sc(r).code, text(r)).toBe('IN_PROGRESS');
    expect(text(r)).toMatch(/still in flight/);
    expect(sandbox.stats().total - before).toBe(0);
    const done = await first;
    expect(done.isError, text(done)).toBeFalsy();
    expect(sc(done).job_id).toBe(entries[0].reservation);
    const got = await s.call('jobs_get', { job_id: entries[0].reservation });
    expect(sc(got).provider_job_id).toBe(sc(done).provider_job_id);
    expect(sc(got).provider_job_id).not.toBe(elsewhere);
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ committed: 1, reserved: 0, uncertain: 0 });
    expect(hits(sandbox, T2I_PATH)).toBe(base + 1);
  });

  it('still settles a stale reserved reservation, whose process died mid-create', async () => {
    const dir = tempDir();
    const dead = await serve({ MEDIAGEN_STATE_DIR: dir });
    const base = hits(sandbox, T2I_PATH);
    const args = { prompt: 'a lantern sandbox:slow', idempotency_key: 'killed-mid-create-01' };
    void dead.call(T2I, args).catch(() => undefined);
    await until(() => hits(sandbox, T2I_PATH) === base + 1);
    process.kill(dead.pid ?? 0, 'SIGKILL');
    // A new process on the same state folder, with a short request deadline: the reservation goes stale.
    const s = await serve({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_HTTP_TIMEOUT_MS: '2000' });
    let entry: { reservation: string; state: string } | undefined;
    for (let i = 0; i < 100 && entry?.state !== 'uncertain'; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      entry = (sc(await s.call('spend_report')).entries as { reservation: string; state: string }[])[0];
    }
    expect(entry?.state).toBe('uncertain');
    const providerJobId = await createJob(sandbox, CREATE, { prompt: 'the job it made' });
    const r = await s.call('jobs_track', {
      tool: T2I,
      provider_job_id: providerJobId,
      reservation_id: entry?.reservation,
    });
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ job_id: entry?.reservation, reservation: { state: 'committed' } });
    // The key knew its reservation before the create was sent: jobs_track settled it too.
    const creates = hits(sandbox, T2I_PATH);
    const again = await s.call(T2I, args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again)).toMatchObject({ job_id: entry?.reservation, provider_job_id: providerJobId, reused: true });
    expect(hits(sandbox, T2I_PATH)).toBe(creates);
  });

  it('once jobs_track settles an unknown outcome, the same call with the same idempotency_key returns the job and sends nothing', async () => {
    const s = await serve();
    const args = { prompt: 'a kite sandbox:lost', idempotency_key: 'unknown-then-tracked-01' };
    const lost = await s.call(T2I, args);
    expect(sc(lost).code, text(lost)).toBe('OUTCOME_UNKNOWN');
    const reservation = String(sc(lost).reservation);
    expect(sc(await s.call(T2I, args)).code).toBe('OUTCOME_UNKNOWN');
    // The job the provider did create, found on its dashboard.
    const providerJobId = await createJob(sandbox, CREATE, { prompt: 'a kite' });
    const tracked = await s.call('jobs_track', {
      tool: T2I,
      provider_job_id: providerJobId,
      reservation_id: reservation,
    });
    expect(tracked.isError, text(tracked)).toBeFalsy();
    expect(sc(tracked)).toMatchObject({ job_id: reservation, reservation: { state: 'committed' } });
    const creates = hits(sandbox, T2I_PATH);
    const again = await s.call(T2I, args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again)).toMatchObject({ job_id: reservation, provider_job_id: providerJobId, reused: true });
    expect(hits(sandbox, T2I_PATH)).toBe(creates);
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ committed: 1, uncertain: 0 });
  });

  it('tracked first without its reservation, then with it: the reservation settles onto that job, once', async () => {
    const s = await serve();
    const args = { prompt: 'a drum sandbox:lost', idempotency_key: 'tracked-then-settled-01' };
    const lost = await s.call(T2I, args);
    expect(sc(lost).code, text(lost)).toBe('OUTCOME_UNKNOWN');
    const reservation = String(sc(lost).reservation);
    const providerJobId = await createJob(sandbox, CREATE, { prompt: 'a drum' });
    const plain = await s.call('jobs_track', { tool: T2I, provider_job_id: providerJobId });
    expect(plain.isError, text(plain)).toBeFalsy();
    const jobId = String(sc(plain).job_id);
    const settled = await s.call('jobs_track', {
      tool: T2I,
      provider_job_id: providerJobId,
      reservation_id: reservation,
    });
    expect(settled.isError, text(settled)).toBeFalsy();
    expect(sc(settled)).toMatchObject({ job_id: jobId, reservation: { id: reservation, state: 'committed' } });
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ uncertain: 0 });
    const creates = hits(sandbox, T2I_PATH);
    const again = await s.call(T2I, args);
    expect(sc(again)).toMatchObject({ job_id: jobId, reused: true });
    expect(hits(sandbox, T2I_PATH)).toBe(creates);
    // A second reservation cannot settle onto the same job: it is paid for now.
    const twice = await s.call('jobs_track', {
      tool: T2I,
      provider_job_id: providerJobId,
      reservation_id: reservation,
    });
    expect(twice.isError).toBe(true);
  });
});
