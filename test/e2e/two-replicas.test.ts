/**
 * Two stateless replicas (real processes, real HTTP) share one real PostgreSQL database and the sandbox
 * gateway: any replica serves any call, caps hold exactly across both, and a replica killed mid-create
 * leaves the truth in the shared ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import {
  connectHttp,
  spawnHttp,
  writeTokens,
  type HttpClient,
  type HttpServerProcess,
} from '../helpers/http-server.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { text } from '../helpers/stdio.js';

requirePg('two replicas on PostgreSQL');
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
/** Provider requests other than status polls (the replicas' background workers poll their jobs meanwhile). */
const sent = (): number =>
  Object.entries(sandbox.stats().byRoute)
    .filter(([route]) => !route.includes('/generation/result/'))
    .reduce((sum, [, n]) => sum + n, 0);
const TOOL = 'mediaio_t2i_imagen_4';
let sandbox: Sandbox;
let db: { url: string; drop: () => Promise<void> };
let a: HttpServerProcess;
let b: HttpServerProcess;
const clients: HttpClient[] = [];
let tokens: Record<string, string>;

async function client(server: HttpServerProcess, who: string): Promise<HttpClient> {
  const c = await connectHttp(server.url, tokens[who]);
  clients.push(c);
  return c;
}

/** The consent token a "confirm all" principal gets for these arguments (no provider request). */
async function tokenFor(c: HttpClient, prompt: string): Promise<string> {
  const r = await c.call(TOOL, { prompt, counts: '1' });
  expect(sc(r).code, text(r)).toBe('CONFIRMATION_REQUIRED');
  return sc(r).confirm_token as string;
}

beforeAll(async () => {
  if (!HAS_PG) return;
  sandbox = await startSandbox({ pollsToComplete: 2, slowMs: 20_000 });
  db = await freshDatabase();
  const dir = tempDir();
  const t = writeTokens(dir, {
    ops: { consent: { confirm: 'all' } },
    capped: { consent: { confirm: 'all' }, caps: { session: { mediaio: 10 } } },
  });
  tokens = t.tokens;
  const env = {
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: sandbox.key,
    MEDIAGEN_POLL_MS: '50',
    MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    DATABASE_URL: db.url,
  };
  const args = ['--stateless', '--tokens-file', t.file, '--http-timeout-ms', '1000', '--http-rate', 'off'];
  // Both start at once: the migrations must not race.
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

describe.runIf(HAS_PG)('two stateless replicas on one PostgreSQL database', () => {
  it('a job created through A is waited on to its result through B', async () => {
    const [ca, cb] = [await client(a, 'ops'), await client(b, 'ops')];
    const token = await tokenFor(ca, 'across replicas');
    const created = await ca.call(TOOL, { prompt: 'across replicas', counts: '1', confirm_token: token });
    expect(created.isError, text(created)).toBeFalsy();
    const seen: number[] = [];
    const r = (await cb.client.callTool({ name: 'jobs_wait', arguments: { job_id: sc(created).job_id } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    })) as CallToolResult;
    expect(sc(r)).toMatchObject({ job_id: sc(created).job_id, status: 'succeeded' });
    expect((sc(r).outputs as unknown[]).length).toBe(1);
  });

  it('a consent token issued by A is used once through B and refused when replayed through A', async () => {
    const [ca, cb] = [await client(a, 'ops'), await client(b, 'ops')];
    const token = await tokenFor(ca, 'token across');
    const before = sent();
    const ok = await cb.call(TOOL, { prompt: 'token across', counts: '1', confirm_token: token });
    expect(ok.isError, text(ok)).toBeFalsy();
    const replay = await ca.call(TOOL, { prompt: 'token across', counts: '1', confirm_token: token });
    expect(sc(replay).refused).toMatch(/already used/);
    expect(sent() - before).toBe(1);
  });

  it('50 concurrent confirmed calls over A and B against a cap that fits 10: exactly 10 provider requests, ledger = cap', async () => {
    const [ca, cb] = [await client(a, 'capped'), await client(b, 'capped')];
    const prompts = Array.from({ length: 50 }, (_, i) => `cap race ${i}`);
    const confirmTokens = await Promise.all(prompts.map((p, i) => tokenFor(i % 2 ? ca : cb, p)));
    const before = sent();
    const results = await Promise.all(
      prompts.map((prompt, i) =>
        (i % 2 ? cb : ca).call(TOOL, { prompt, counts: '1', confirm_token: confirmTokens[i] }),
      ),
    );
    const created = results.filter((r) => !r.isError);
    const refused = results.filter((r) => r.isError);
    expect(created).toHaveLength(10);
    expect(refused.every((r) => sc(r).code === 'BUDGET_EXCEEDED')).toBe(true);
    expect(sent() - before).toBe(10);
    const report = sc(await cb.call('spend_report', {}));
    const mediaio = (report.providers as { provider: string; session: { committed: number } | null }[]).find(
      (p) => p.provider === 'mediaio',
    );
    expect(mediaio?.session?.committed).toBe(10);
  });

  it("SIGKILL of A in the middle of a create: B's spend_report and jobs_list tell the truth", async () => {
    const [ca, cb] = [await client(a, 'ops'), await client(b, 'ops')];
    const token = await tokenFor(ca, 'killed sandbox:slow');
    const before = sent();
    // Its answer never comes (A dies); the client is closed in afterAll.
    void ca.call(TOOL, { prompt: 'killed sandbox:slow', counts: '1', confirm_token: token }).catch(() => undefined);
    for (let i = 0; i < 100 && sent() === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sent() - before).toBe(1); // the request is at the provider
    a.proc.kill('SIGKILL');
    await a.exited;
    const jobs = sc(await cb.call('jobs_list', {})).jobs as { job_id: string; args?: unknown }[];
    const entries = () =>
      cb
        .call('spend_report', { limit: 100 })
        .then((r) =>
          (sc(r).entries as { state: string; job_id: string | null; tool: string }[]).filter((e) => !e.job_id),
        );
    const open = await entries();
    // Either the job is in the ledger, or its reservation is: never a silent loss.
    expect(open.length + jobs.length).toBeGreaterThan(0);
    expect(open).toHaveLength(1);
    expect(['reserved', 'uncertain']).toContain(open[0].state);
    await new Promise((r) => setTimeout(r, 3_200)); // past the stale window (http timeout + 2 s)
    expect((await entries())[0].state).toBe('uncertain');
  });
});
