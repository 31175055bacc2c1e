/**
 * Principals over Streamable HTTP: two bearer tokens, two principals, one server and one store. B can
 * neither see nor touch A's jobs, consent tokens or idempotency keys, and a refused call reaches no provider.
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
import { text } from '../helpers/stdio.js';

let sandbox: Sandbox;
let server: HttpServerProcess;
let alice: HttpClient;
let bob: HttpClient;
let carol: HttpClient;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const ARGS = { prompt: 'a lighthouse', counts: '1' };

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
  const dir = tempDir();
  const t = writeTokens(dir, {
    alice: { consent: { confirm: 'all' } },
    bob: { consent: { confirm: 'all' } },
    carol: {},
  });
  server = await spawnHttp(
    {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: sandbox.key,
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_POLL_MS: '50',
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
      // These tests count every provider request one call makes, status polls included: no background worker.
      MEDIAGEN_WORKER: '0',
    },
    ['--tokens-file', t.file],
  );
  alice = await connectHttp(server.url, t.tokens.alice);
  bob = await connectHttp(server.url, t.tokens.bob);
  carol = await connectHttp(server.url, t.tokens.carol);
});
afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await carol?.close();
  await server?.stop();
  await sandbox?.close();
});

/** Consent settings "confirm all" ask the caller; the token then creates a job. */
async function confirmedJob(
  who: HttpClient,
  prompt: string,
  extra: Record<string, unknown> = {},
): Promise<CallToolResult> {
  const first = await who.call('mediaio_t2i_imagen_4', { ...ARGS, prompt, ...extra });
  expect(sc(first).code).toBe('CONFIRMATION_REQUIRED');
  const r = await who.call('mediaio_t2i_imagen_4', {
    ...ARGS,
    prompt,
    ...extra,
    confirm_token: sc(first).confirm_token,
  });
  expect(r.isError, text(r)).toBeFalsy();
  return r;
}
const aliceJob = async (prompt: string): Promise<string> => sc(await confirmedJob(alice, prompt)).job_id as string;

describe('principals over HTTP', () => {
  it("each principal's consent settings apply: alice must confirm, carol's call at 1 credit runs", async () => {
    sandbox.reset();
    const r = await carol.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'carol direct' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(sandbox.stats().total).toBe(1);
    await aliceJob('alice direct');
  });

  it("bob cannot jobs_get, jobs_wait, jobs_cancel or jobs_list alice's job: the same NOT_FOUND as a job that never existed", async () => {
    const id = await aliceJob('private');
    const never = 'job_00000000000000000000000000';
    for (const tool of ['jobs_get', 'jobs_wait', 'jobs_cancel']) {
      const before = sandbox.stats().total;
      const theirs = await bob.call(tool, { job_id: id });
      const none = await bob.call(tool, { job_id: never });
      expect(theirs.isError).toBe(true);
      expect(sc(theirs).code, tool).toBe('NOT_FOUND');
      expect(text(theirs).replace(id, 'ID')).toBe(text(none).replace(never, 'ID'));
      expect(sandbox.stats().total - before, tool).toBe(0);
    }
    const list = await bob.call('jobs_list', {});
    expect((sc(list).jobs as { job_id: string }[]).map((j) => j.job_id)).not.toContain(id);
    const mine = await alice.call('jobs_list', {});
    expect((sc(mine).jobs as { job_id: string }[]).map((j) => j.job_id)).toContain(id);
    const w = await alice.call('jobs_wait', { job_id: id });
    expect(sc(w).status, text(w)).toBe('succeeded');
  });

  it("bob cannot use alice's consent token: refused, zero provider requests", async () => {
    const first = await alice.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'token theft' });
    const token = sc(first).confirm_token as string;
    sandbox.reset();
    const stolen = await bob.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'token theft', confirm_token: token });
    expect(stolen.isError).toBe(true);
    expect(sandbox.stats().total).toBe(0);
    // The token still works once for alice.
    const r = await alice.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'token theft', confirm_token: token });
    expect(r.isError, text(r)).toBeFalsy();
  });

  it("alice's idempotency key is simply a different key for bob", async () => {
    const key = { idempotency_key: 'shared-key-1' };
    const a = await carol.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'keyed', ...key });
    const again = await carol.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'keyed', ...key });
    expect(sc(again)).toMatchObject({ job_id: sc(a).job_id, reused: true });
    sandbox.reset();
    const r = await confirmedJob(alice, 'keyed', key);
    expect(sandbox.stats().total).toBe(1);
    expect(sc(r).reused).toBe(false);
    expect(sc(r).job_id).not.toBe(sc(a).job_id);
  });

  it("bob's spend_report shows none of alice's spend", async () => {
    await aliceJob('spend of alice');
    const report = sc(await bob.call('spend_report', { limit: 100 }));
    expect(report.entries).toEqual([]);
    expect(report.providers).toEqual([]);
    const mine = sc(await alice.call('spend_report', { limit: 100 }));
    expect((mine.entries as unknown[]).length).toBeGreaterThan(0);
  });

  it('jobs_wait progress reaches the client as SSE notifications', async () => {
    const r1 = await carol.call('mediaio_t2i_imagen_4', { ...ARGS, prompt: 'progress' });
    const seen: number[] = [];
    const r = (await carol.client.callTool({ name: 'jobs_wait', arguments: { job_id: sc(r1).job_id } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    })) as CallToolResult;
    expect(sc(r).status).toBe('succeeded');
    expect(seen.length).toBeGreaterThanOrEqual(1);
  });
});
