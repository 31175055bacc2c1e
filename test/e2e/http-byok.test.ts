/**
 * Per-request provider keys (--byok): a principal's own key in X-Mediagen-Key-<Provider> reaches the
 * provider for that request only. It is never stored (not in the ledger, the SQLite file or a PostgreSQL
 * dump) nor logged (debug included), even when the provider echoes it back; another principal's request,
 * and the same principal's next request without the header, cannot use it; the worker leaves such jobs
 * alone and jobs_get says they advance only when polled with a key. Without --byok the header is refused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { DATABASE_URL, freshDatabase, requirePg } from '../helpers/pg.js';
import { INIT, MCP_HEADERS, spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { text } from '../helpers/stdio.js';

// '!' and '~' are outside what the bearer/key-shaped patterns match: only the request's own redaction hides it.
const KEY = `byok!own~key!${Math.random().toString(36).slice(2)}!9f3c`;
const SERVER_KEY = 'the-servers-own-key-that-the-sandbox-refuses';
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const ARGS = { prompt: 'a lighthouse at dusk', counts: '1' };

interface Conn {
  call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/** A real SDK client whose every request carries the bearer token and, when given, the provider key header. */
async function connect(url: string, token: string, key?: string, provider = 'MediaIO'): Promise<Conn> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (key) headers[`X-Mediagen-Key-${provider}`] = key;
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'byok-e2e', version: '1.0.0' });
  await client.connect(transport);
  return {
    call: async (name, a = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult,
    close: () => client.close(),
  };
}

async function serve(
  sandbox: Sandbox,
  dir: string,
  extraArgs: string[],
  env: Record<string, string> = {},
): Promise<{ server: HttpServerProcess; tokens: Record<string, string> }> {
  const t = writeTokens(dir, { alice: {}, bob: {} });
  const server = await spawnHttp(
    {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: SERVER_KEY,
      PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
      PHAYA_API_KEY: SERVER_KEY,
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
      MEDIAGEN_POLL_MS: '100',
      ...env,
    },
    ['--tokens-file', t.file, ...extraArgs],
  );
  return { server, tokens: t.tokens };
}

/** Every byte of every file under `dir` (the SQLite file, its WAL and journal included). */
function filesUnder(dir: string): Buffer {
  const out: Buffer[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(readFileSync(join(e.parentPath, e.name)));
  return Buffer.concat(out);
}

const requestsSince = (sandbox: Sandbox, n: number) => sandbox.stats().requests.slice(n);

describe('--byok over the tokens file (SQLite)', () => {
  let sandbox: Sandbox;
  let server: HttpServerProcess;
  let tokens: Record<string, string>;
  let dir: string;
  let jobId: string;

  beforeAll(async () => {
    // The sandbox accepts only the principal's own key, and echoes the auth header back (a careless provider).
    sandbox = await startSandbox({ key: KEY, echoKey: true });
    dir = tempDir();
    ({ server, tokens } = await serve(sandbox, dir, ['--byok']));
  });
  afterAll(async () => {
    await server?.stop();
    await sandbox?.close();
  });

  it("the principal's own key reaches the provider once, for the create of that request", async () => {
    const alice = await connect(server.url, tokens.alice, KEY);
    const before = sandbox.stats().total;
    const r = await alice.call('mediaio_t2i_imagen_4', ARGS);
    expect(r.isError, text(r)).toBeFalsy();
    const sent = requestsSince(sandbox, before);
    expect(sent).toHaveLength(1);
    expect(sent[0].method).toBe('POST');
    expect(sent[0].authorized).toBe(true); // the sandbox takes only KEY: the server's own was not sent
    jobId = String(sc(r).job_id);
    expect(JSON.stringify(r)).not.toContain(KEY);
    await alice.close();
  });

  it('the worker leaves the job alone; jobs_get without the key polls nothing and says why', async () => {
    const alice = await connect(server.url, tokens.alice);
    const before = sandbox.stats().total;
    // The worker would have polled a normal job several times in this span (MEDIAGEN_POLL_MS=100).
    await new Promise((r) => setTimeout(r, 1500));
    const got = await alice.call('jobs_get', { job_id: jobId });
    expect(got.isError, text(got)).toBeFalsy();
    expect(sc(got).status).toBe('pending');
    expect(sc(got).own_key).toBe(true);
    expect(text(got)).toContain('X-Mediagen-Key-mediaio');
    const waited = await alice.call('jobs_wait', { job_id: jobId });
    expect(sc(waited).status).toBe('pending');
    expect(sandbox.stats().total).toBe(before);
    await alice.close();
  });

  it("another principal cannot see the job nor spend the key; its own call goes with the server's key", async () => {
    const bob = await connect(server.url, tokens.bob);
    const before = sandbox.stats().total;
    const got = await bob.call('jobs_get', { job_id: jobId });
    expect(sc(got).code).toBe('NOT_FOUND');
    expect(sandbox.stats().total).toBe(before);
    const r = await bob.call('mediaio_t2i_imagen_4', ARGS);
    expect(sc(r).code).toBe('PROVIDER_AUTH');
    const sent = requestsSince(sandbox, before);
    expect(sent).toHaveLength(1);
    expect(sent[0].authorized).toBe(false);
    await bob.close();
  });

  it("the same principal's next call without the header goes with the server's key, not the last one", async () => {
    const alice = await connect(server.url, tokens.alice);
    const before = sandbox.stats().total;
    const r = await alice.call('mediaio_t2i_imagen_4', ARGS);
    expect(sc(r).code).toBe('PROVIDER_AUTH');
    expect(requestsSince(sandbox, before).map((q) => q.authorized)).toEqual([false]);
    await alice.close();
  });

  it('jobs_wait with the key advances the job to its result, every poll with that key', async () => {
    const alice = await connect(server.url, tokens.alice, KEY);
    const before = sandbox.stats().total;
    let r = await alice.call('jobs_wait', { job_id: jobId });
    for (let i = 0; i < 5 && sc(r).status !== 'succeeded'; i++) r = await alice.call('jobs_wait', { job_id: jobId });
    expect(sc(r).status, text(r)).toBe('succeeded');
    const polls = requestsSince(sandbox, before);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.every((q) => q.authorized)).toBe(true);
    expect(JSON.stringify(r)).not.toContain(KEY);
    await alice.close();
  });

  it('jobs_cancel of such a job is refused without the key (nothing sent) and goes with it', async () => {
    const SORA = 'phaya_sora2_text_to_video';
    const own = await connect(server.url, tokens.alice, KEY, 'Phaya');
    const ask = await own.call(SORA, { prompt: 'a paper boat' });
    expect(sc(ask).code, text(ask)).toBe('CONFIRMATION_REQUIRED');
    const created = await own.call(SORA, { prompt: 'a paper boat', confirm_token: sc(ask).confirm_token });
    expect(created.isError, text(created)).toBeFalsy();
    const id = String(sc(created).job_id);
    const plain = await connect(server.url, tokens.alice);
    const before = sandbox.stats().total;
    const refused = await plain.call('jobs_cancel', { job_id: id });
    expect(sc(refused).code, text(refused)).toBe('NOT_CONFIGURED');
    expect(text(refused)).toContain('X-Mediagen-Key-phaya');
    expect(sandbox.stats().total).toBe(before);
    const done = await own.call('jobs_cancel', { job_id: id });
    expect(sc(done).status, text(done)).toBe('cancelled');
    expect(requestsSince(sandbox, before).map((q) => q.authorized)).toEqual([true]);
    await plain.close();
    await own.close();
  });

  it("a provider that echoes the key into a failed job's error: the ledger gets it redacted", async () => {
    const own = await connect(server.url, tokens.alice, KEY, 'Phaya');
    const created = await own.call('phaya_text_to_image', { prompt: 'a lantern sandbox:fail' });
    expect(created.isError, text(created)).toBeFalsy();
    const id = String(sc(created).job_id);
    let w = await own.call('jobs_wait', { job_id: id });
    for (let i = 0; i < 5 && sc(w).status !== 'failed'; i++) w = await own.call('jobs_wait', { job_id: id });
    expect(sc(w).status, text(w)).toBe('failed');
    expect(JSON.stringify(w)).not.toContain(KEY);
    await own.close();
  });

  it('the key is in no ledger answer, no log line (debug) and no byte of the state folder', async () => {
    const alice = await connect(server.url, tokens.alice);
    for (const [tool, args] of [
      ['jobs_list', {}],
      ['spend_report', {}],
      ['jobs_get', { job_id: jobId }],
    ] as const) {
      const r = await alice.call(tool, args);
      expect(r.isError, text(r)).toBeFalsy();
      expect(JSON.stringify(r)).not.toContain(KEY);
    }
    await alice.close();
    expect(server.stderr()).toContain('debug:');
    expect(server.stderr()).not.toContain(KEY);
    await server.stop();
    const bytes = filesUnder(dir);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(KEY))).toBe(false);
    expect(bytes.includes(Buffer.from(encodeURIComponent(KEY)))).toBe(false);
  });
});

describe('X-Mediagen-Key-* headers refused', () => {
  let sandbox: Sandbox;
  afterAll(async () => sandbox?.close());

  async function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...headers },
      body: JSON.stringify(INIT),
    });
    return { status: res.status, body: await res.text() };
  }

  it('without --byok: 400 naming the header, never the key, and nothing reaches the provider', async () => {
    sandbox = await startSandbox({ key: KEY });
    const { server, tokens } = await serve(sandbox, tempDir(), []);
    try {
      const r = await post(server.url, { Authorization: `Bearer ${tokens.alice}`, 'X-Mediagen-Key-mediaio': KEY });
      expect(r.status).toBe(400);
      expect(r.body).toContain('--byok');
      expect(r.body).not.toContain(KEY);
      // The same call without the header is served, with the server's key.
      const alice = await connect(server.url, tokens.alice);
      const call = await alice.call('mediaio_t2i_imagen_4', ARGS);
      expect(sc(call).code).toBe('PROVIDER_AUTH');
      await alice.close();
      expect(sandbox.stats().requests.map((q) => q.authorized)).toEqual([false]);
      expect(server.stderr()).not.toContain(KEY);
    } finally {
      await server.stop();
    }
  });

  it('with --byok: a malformed key header is 400, the bearer still checked first', async () => {
    const { server, tokens } = await serve(sandbox, tempDir(), ['--byok']);
    try {
      const bad = await post(server.url, { Authorization: `Bearer ${tokens.alice}`, 'X-Mediagen-Key-mediaio': 'a,b' });
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('X-Mediagen-Key-mediaio'.toLowerCase());
      const anon = await post(server.url, { 'X-Mediagen-Key-mediaio': KEY });
      expect(anon.status).toBe(401);
    } finally {
      await server.stop();
    }
  });
});

describe('--byok over PostgreSQL', () => {
  requirePg('byok on PostgreSQL');
  if (!DATABASE_URL) return;

  it('the key reaches the provider and no byte of a pg_dump holds it', async () => {
    const sandbox = await startSandbox({ key: KEY, echoKey: true });
    const db = await freshDatabase();
    const { server, tokens } = await serve(sandbox, tempDir(), ['--byok'], { DATABASE_URL: db.url });
    try {
      const alice = await connect(server.url, tokens.alice, KEY);
      const r = await alice.call('mediaio_t2i_imagen_4', ARGS);
      expect(r.isError, text(r)).toBeFalsy();
      const id = String(sc(r).job_id);
      let w = await alice.call('jobs_wait', { job_id: id });
      for (let i = 0; i < 5 && sc(w).status !== 'succeeded'; i++) w = await alice.call('jobs_wait', { job_id: id });
      expect(sc(w).status).toBe('succeeded');
      expect(sandbox.stats().requests.every((q) => q.authorized)).toBe(true);
      await alice.close();
      const dump = execFileSync('pg_dump', ['--data-only', '--inserts', db.url], { maxBuffer: 64 << 20 });
      expect(dump.toString('utf8')).toContain(id); // the job is there, marked
      expect(dump.includes(Buffer.from(KEY))).toBe(false);
      expect(server.stderr()).not.toContain(KEY);
    } finally {
      await server.stop();
      await sandbox.close();
      await db.drop();
    }
  });
});

describe('--byok with a provider the server has no key for', () => {
  it('its tools are served; without the header nothing is sent or charged, with it the job runs', async () => {
    const sandbox = await startSandbox({ key: KEY });
    const dir = tempDir();
    const { server, tokens } = await serve(sandbox, dir, ['--byok'], { MEDIAIO_API_KEY: '' });
    try {
      const plain = await connect(server.url, tokens.alice);
      const names = (await plainList(server.url, tokens.alice)).map((t) => t.name);
      expect(names).toContain('mediaio_t2i_imagen_4');
      const refused = await plain.call('mediaio_t2i_imagen_4', ARGS);
      expect(sc(refused).code, text(refused)).toBe('NOT_CONFIGURED');
      expect(text(refused)).toContain('X-Mediagen-Key-mediaio');
      expect(sandbox.stats().total).toBe(0);
      const spend = await plain.call('spend_report', {});
      await plain.close();
      const alice = await connect(server.url, tokens.alice, KEY);
      const r = await alice.call('mediaio_t2i_imagen_4', ARGS);
      expect(r.isError, text(r)).toBeFalsy();
      const id = String(sc(r).job_id);
      let w = await alice.call('jobs_wait', { job_id: id });
      for (let i = 0; i < 5 && sc(w).status !== 'succeeded'; i++) w = await alice.call('jobs_wait', { job_id: id });
      expect(sc(w).status).toBe('succeeded');
      expect(sandbox.stats().requests.every((q) => q.authorized)).toBe(true);
      const totals = (sc(spend).providers as { all_time: Record<string, number> }[])[0].all_time;
      expect(totals).toMatchObject({ committed: 0, reserved: 0, uncertain: 0, released: 1 });
      await alice.close();
    } finally {
      await server.stop();
      await sandbox.close();
    }
  });
});

async function plainList(url: string, token: string) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'byok-list', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  await client.close();
  return tools;
}
