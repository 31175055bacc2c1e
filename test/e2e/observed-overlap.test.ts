/**
 * Observed prices are not poisoned by overlap the process itself cannot see: two principals of one HTTP
 * server, and two processes sharing one store (a SQLite file; a PostgreSQL database). In each case a lone
 * job is observed first (5 credits); then job A (5 credits) and job B (40 credits) overlap, B's charge
 * landing between A's two balance reads, and nothing more is observed (once a 5-credit call was recorded
 * as 45). Real SDK clients, the built server, the sandbox's Media.io balance.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLOCK_MARGIN_MS } from '../../src/guard/observed.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { connectHttp, spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { callConfirmed } from '../helpers/sandboxed.js';
import { spawnStdio, text } from '../helpers/stdio.js';

const TOOL = 'mediaio_t2i_imagen_4';
const ARGS = { counts: '1' };
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

let sandbox: Sandbox;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 1 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: sandbox.key,
    MEDIAGEN_POLL_MS: '50',
    ...extra,
  };
}

/** A confirmed create (the user approved); returns our job id. */
async function create(client: Client, prompt: string): Promise<string> {
  const r = await callConfirmed(client, TOOL, { prompt, ...ARGS });
  expect(r.isError, text(r)).toBeFalsy();
  return sc(r).job_id as string;
}

async function wait(client: Client, id: string): Promise<void> {
  const r = (await client.callTool({ name: 'jobs_wait', arguments: { job_id: id } })) as CallToolResult;
  expect(sc(r).status, text(r)).toBe('succeeded');
}

/** What `quote` reports as observed for the price key of these calls. */
async function observed(client: Client): Promise<unknown> {
  const r = (await client.callTool({
    name: 'quote',
    arguments: { tool: TOOL, arguments: { prompt: 'q', ...ARGS } },
  })) as CallToolResult;
  return (sc(r).price as { observed?: unknown }).observed;
}

/** Let the clock pass the margin within which another job's end still counts as overlap. */
const pastMargin = () => new Promise((r) => setTimeout(r, CLOCK_MARGIN_MS + 200));

/** The scenario over two clients that cannot see each other's calls in memory. */
async function overlap(a: Client, b: Client): Promise<void> {
  await wait(a, await create(a, 'lone sandbox:charge5'));
  expect(await observed(a)).toMatchObject({ latest: 5, max: 5, count: 1 });
  await pastMargin();
  const jobA = await create(a, 'first sandbox:charge5');
  const jobB = await create(b, 'second sandbox:charge40');
  await wait(b, jobB); // B is charged now, between A's two balance reads
  await wait(a, jobA);
  expect(await observed(a)).toMatchObject({ latest: 5, max: 5, count: 1 });
  expect(await observed(b)).toMatchObject({ latest: 5, max: 5, count: 1 });
}

describe('overlap across principals and processes', () => {
  it('two principals of one HTTP server with overlapping jobs: nothing is observed', async () => {
    const dir = tempDir();
    const { file, tokens } = writeTokens(dir, { alice: {}, bob: {} });
    const server: HttpServerProcess = await spawnHttp(env({ MEDIAGEN_STATE_DIR: dir }), ['--tokens-file', file]);
    closers.push(() => server.stop());
    const alice = await connectHttp(server.url, tokens.alice);
    const bob = await connectHttp(server.url, tokens.bob);
    closers.push(alice.close, bob.close);
    await overlap(alice.client, bob.client);
  });

  it('two stdio processes on one SQLite file with overlapping jobs: nothing is observed', async () => {
    const dir = tempDir();
    const one = await spawnStdio(env({ MEDIAGEN_STATE_DIR: dir }));
    const two = await spawnStdio(env({ MEDIAGEN_STATE_DIR: dir }));
    closers.push(one.close, two.close);
    await overlap(one.client, two.client);
  });
});

describe('overlap across processes on PostgreSQL', () => {
  requirePg('observed prices across processes on PostgreSQL');
  it.runIf(HAS_PG)('two processes on one PostgreSQL database with overlapping jobs: nothing is observed', async () => {
    const db = await freshDatabase();
    closers.push(db.drop);
    const one = await spawnStdio(env({ DATABASE_URL: db.url }));
    const two = await spawnStdio(env({ DATABASE_URL: db.url }));
    closers.push(one.close, two.close);
    await overlap(one.client, two.client);
  });
});
