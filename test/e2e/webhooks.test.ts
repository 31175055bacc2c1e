/**
 * Webhooks as poll hints, over real HTTP: a ph0ny create sent by a server with --public-url carries
 * `<public-url>/hooks/<capability>` (unless the caller gave a webhook_url, which goes through untouched);
 * only the capability's SHA-256 is recorded, and the capability is in no stored argument, result or log
 * line. A good hook answers 204 and makes the job's next status poll happen at once; a replayed, forged,
 * unknown, malformed or finished capability answers 404 and causes no provider request. Bodies are
 * capped (413), the Host is checked (403) and the route is rate-limited per client address (429).
 */
import { request as httpRequest } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/open.js';
import type { JobRecord, Store } from '../../src/store/store.js';
import { HOOK_RATE } from '../../src/transports/hooks.js';
import { tempDir } from '../helpers/in-memory.js';
import {
  connectHttp,
  spawnHttp,
  writeTokens,
  type HttpClient,
  type HttpServerProcess,
} from '../helpers/http-server.js';
import { spawnStdio, text } from '../helpers/stdio.js';

const PUBLIC = 'https://mcp.example.test/base';
const PH0NY_DEFAULT = 'https://persona-labsvoice-api-production.up.railway.app/v1';
const TOOL = 'ph0ny_video_generate';
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let sandbox: Sandbox;
let server: HttpServerProcess;
let client: HttpClient;
let store: Store;
let origin: string;

beforeAll(async () => {
  // Jobs stay open for a while (a hook for a finished job is tested apart).
  sandbox = await startSandbox({ pollsToComplete: 6 });
  const dir = tempDir();
  server = await spawnHttp(
    {
      PH0NY_BASE_URL: sandbox.baseUrl('ph0ny', PH0NY_DEFAULT),
      PH0NY_API_KEY: sandbox.key,
      PH0NY_WEBHOOK_SECRET: 'whsec-operator-secret-0a1b2c',
      // A poll interval far past the test: a poll that happens now is the hook's doing.
      MEDIAGEN_POLL_MS: '60000',
      MEDIAGEN_STATE_DIR: dir,
    },
    ['--public-url', PUBLIC, '--toolsets', 'ph0ny'],
  );
  origin = new URL(server.url).origin;
  client = await connectHttp(server.url);
  store = await openStore({ stateDir: dir });
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
  await store?.close();
  await sandbox?.close();
});

/** A paid call through the consent token path (ph0ny prices are unknown: consent is always asked). */
async function paid(args: Record<string, unknown>): Promise<CallToolResult> {
  const first = await client.call(TOOL, args);
  expect(sc(first).code, text(first)).toBe('CONFIRMATION_REQUIRED');
  const r = await client.call(TOOL, { ...args, confirm_token: sc(first).confirm_token });
  expect(r.isError, text(r)).toBeFalsy();
  return r;
}

/** The create request the sandbox received for a provider job id. */
function createBody(providerJobId: string): Record<string, unknown> {
  const job = sandbox.job('ph0ny', providerJobId);
  expect(job).toBeDefined();
  return job?.meta.inputs as Record<string, unknown>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** POST to the server with node:http (so the Host header and an exact body can be chosen). */
function post(path: string, body: string | Buffer = '{}', headers: Record<string, string> = {}): Promise<Answer> {
  const u = new URL(path, origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    // The server may answer (413) and close before the whole body is written.
    req.on('error', reject);
    req.end(body);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hookOf = (url: string): string => url.slice(`${PUBLIC}/hooks/`.length);

let hooked: { job: JobRecord; secret: string };

describe('webhooks as poll hints', () => {
  it('a create with no webhook_url is sent with <public-url>/hooks/<capability>; only its hash is stored', async () => {
    const args = { prompt: 'a hooked wave', idempotency_key: 'hooked-wave-1' };
    const r = await paid(args);
    const jobId = sc(r).job_id as string;
    const providerJobId = sc(r).provider_job_id as string;
    const sent = createBody(providerJobId).webhook_url as string;
    expect(sent.startsWith(`${PUBLIC}/hooks/`)).toBe(true);
    const secret = hookOf(sent);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url').length).toBe(32);
    const job = await store.getJob(jobId);
    expect(job?.webhookHash).toBe(sha256(secret));
    // The ledger keeps the caller's arguments: no hook in them, and the capability nowhere in the row.
    expect(job?.args).not.toHaveProperty('webhook_url');
    expect(JSON.stringify(job)).not.toContain(secret);
    expect(JSON.stringify(r)).not.toContain(secret);
    // The key and the hash were computed on the caller's arguments: a repeat finds the same job, sends nothing.
    const before = sandbox.stats().total;
    const again = await client.call(TOOL, args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again)).toMatchObject({ job_id: jobId, reused: true });
    expect(sandbox.stats().total).toBe(before);
    hooked = { job: job as JobRecord, secret };
  });

  it("the caller's own webhook_url is sent untouched and no capability is recorded", async () => {
    const own = 'https://hooks.caller.example/video?x=1';
    const r = await paid({ prompt: 'my own hook', webhook_url: own });
    expect(createBody(sc(r).provider_job_id as string).webhook_url).toBe(own);
    const job = await store.getJob(sc(r).job_id as string);
    expect(job?.args.webhook_url).toBe(own);
    expect(job?.webhookHash ?? null).toBeNull();
  });

  it('a good hook answers 204 and the job is polled at once; a replay is 404 and polls nothing', async () => {
    const { job, secret } = hooked;
    const polls = () => sandbox.job('ph0ny', job.providerJobId)?.polls ?? 0;
    const before = polls();
    const a = await post(`/hooks/${secret}`, JSON.stringify({ status: 'completed', result: { video_url: 'x' } }));
    expect(a.status).toBe(204);
    // With a 60 s poll interval and the job just created, only the hint explains a poll now.
    await until('the status poll the hook asked for', () => (polls() > before ? true : undefined));
    expect(polls()).toBe(before + 1);
    // Nothing in the body was taken: the status is the provider's, as polled.
    const row = await until('the poll to be recorded', async () => {
      const j = await store.getJob(job.id);
      return j && j.polls > 0 ? j : undefined;
    });
    expect(row.webhookHash ?? null).toBeNull();
    expect(row.status).toBe('pending');
    expect(row.outputs).toEqual([]);

    const total = sandbox.stats().total;
    const replay = await post(`/hooks/${secret}`);
    expect(replay.status).toBe(404);
    await pause(500);
    expect(sandbox.stats().total).toBe(total);
  });

  it('forged, unknown and malformed capabilities answer 404 and cause no provider request', async () => {
    const r = await paid({ prompt: 'another hooked wave' });
    const real = hookOf(createBody(sc(r).provider_job_id as string).webhook_url as string);
    const flip = real[0] === 'A' ? 'B' : 'A';
    const forged = flip + real.slice(1);
    const unknown = randomBytes(32).toString('base64url');
    const total = sandbox.stats().total;
    for (const cap of [forged, unknown, 'short', `${real}x`, `${real}/x`, encodeURIComponent('../mcp')])
      expect((await post(`/hooks/${cap}`)).status, cap).toBe(404);
    await pause(500);
    expect(sandbox.stats().total).toBe(total);
    // None of them used up the real one.
    const job = await store.getJob(sc(r).job_id as string);
    expect(job?.webhookHash).toBe(sha256(real));
  });

  it("a finished job's capability answers 404", async () => {
    const r = await paid({ prompt: 'a wave that ends' });
    const id = sc(r).job_id as string;
    const cap = hookOf(createBody(sc(r).provider_job_id as string).webhook_url as string);
    await until('the job to finish', async () => {
      const g = await client.call('jobs_get', { job_id: id });
      return sc(g).status === 'succeeded' ? true : undefined;
    });
    const total = sandbox.stats().total;
    expect((await post(`/hooks/${cap}`)).status).toBe(404);
    await pause(300);
    expect(sandbox.stats().total).toBe(total);
  });

  it('GET is 405, a wrong Host is 403, an oversized body is 413 and leaves the capability unused', async () => {
    const r = await paid({ prompt: 'a wave with a big hook' });
    const id = sc(r).job_id as string;
    const cap = hookOf(createBody(sc(r).provider_job_id as string).webhook_url as string);
    const res = await fetch(`${origin}/hooks/${cap}`);
    expect(res.status).toBe(405);
    expect((await post(`/hooks/${cap}`, '{}', { host: 'evil.example' })).status).toBe(403);
    expect((await post(`/hooks/${cap}`, Buffer.alloc(65 * 1024, 0x61))).status).toBe(413);
    expect((await store.getJob(id))?.webhookHash).toBe(sha256(cap));
  });

  it('the capability is in no log line; the unverified webhook secret is said once, and why', () => {
    const log = server.stderr();
    expect(log).not.toContain(hooked.secret);
    expect(log).not.toContain('whsec-operator-secret-0a1b2c');
    const said = log.split('\n').filter((l) => l.includes('PH0NY_WEBHOOK_SECRET is set'));
    expect(said.length).toBe(1);
    expect(said[0]).toMatch(/NOT verified/);
    expect(said[0]).toMatch(/header, signed string or secret source/);
  });

  it('past its limit, an address gets 429 (a good capability included) and nothing is looked up', async () => {
    const r = await paid({ prompt: 'a wave behind a flood' });
    const id = sc(r).job_id as string;
    const cap = hookOf(createBody(sc(r).provider_job_id as string).webhook_url as string);
    let limited: Answer | undefined;
    for (let i = 0; i < HOOK_RATE.requests * 3 && !limited; i++) {
      const a = await post(`/hooks/${randomBytes(32).toString('base64url')}`);
      if (a.status === 429) limited = a;
      else expect(a.status).toBe(404);
    }
    expect(limited?.headers['retry-after']).toMatch(/^\d+$/);
    expect((await post(`/hooks/${cap}`)).status).toBe(429);
    expect((await store.getJob(id))?.webhookHash).toBe(sha256(cap));
  });
});

describe('webhooks over stdio', () => {
  it('are never sent: --public-url is for HTTP only, and the server says so', async () => {
    const stdio = await spawnStdio(
      { PH0NY_BASE_URL: sandbox.baseUrl('ph0ny', PH0NY_DEFAULT), PH0NY_API_KEY: sandbox.key },
      ['--public-url', PUBLIC, '--toolsets', 'ph0ny', '--no-worker'],
    );
    try {
      const first = await stdio.call(TOOL, { prompt: 'a wave over stdio' });
      expect(sc(first).code, text(first)).toBe('CONFIRMATION_REQUIRED');
      const r = await stdio.call(TOOL, { prompt: 'a wave over stdio', confirm_token: sc(first).confirm_token });
      expect(r.isError, text(r)).toBeFalsy();
      expect(createBody(sc(r).provider_job_id as string)).not.toHaveProperty('webhook_url');
      expect(stdio.stderr()).toContain('--public-url is used over HTTP only');
    } finally {
      await stdio.close();
    }
  });
});

describe('webhooks with bearer tokens', () => {
  it('need no bearer (the capability is the credential): a good hook of a principal is 204, /mcp still 401', async () => {
    const dir = tempDir();
    const { file, tokens } = writeTokens(dir, { alice: { consent: { confirm: 'all' } } });
    const hosted = await spawnHttp(
      {
        PH0NY_BASE_URL: sandbox.baseUrl('ph0ny', PH0NY_DEFAULT),
        PH0NY_API_KEY: sandbox.key,
        PH0NY_WEBHOOK_SECRET: 'whsec-operator-secret-0a1b2c',
        MEDIAGEN_POLL_MS: '60000',
        MEDIAGEN_STATE_DIR: dir,
      },
      ['--public-url', PUBLIC, '--toolsets', 'ph0ny', '--tokens-file', file],
    );
    const alice = await connectHttp(hosted.url, tokens.alice);
    try {
      const said = hosted
        .stderr()
        .split('\n')
        .filter((l) => l.includes('PH0NY_WEBHOOK_SECRET is set'));
      expect(said.length).toBe(1);
      const first = await alice.call(TOOL, { prompt: "alice's wave" });
      expect(sc(first).code, text(first)).toBe('CONFIRMATION_REQUIRED');
      const r = await alice.call(TOOL, { prompt: "alice's wave", confirm_token: sc(first).confirm_token });
      expect(r.isError, text(r)).toBeFalsy();
      const providerJobId = sc(r).provider_job_id as string;
      const cap = hookOf(createBody(providerJobId).webhook_url as string);
      const at = new URL(hosted.url).origin;
      const noBearer = await fetch(`${at}/mcp`, { method: 'POST', body: '{}' });
      expect(noBearer.status).toBe(401);
      const hook = await fetch(`${at}/hooks/${cap}`, { method: 'POST', body: '{}' });
      expect(hook.status).toBe(204);
      await until('the poll of the hook', () =>
        (sandbox.job('ph0ny', providerJobId)?.polls ?? 0) > 0 ? true : undefined,
      );
    } finally {
      await alice.close();
      await hosted.stop();
    }
  });
});
