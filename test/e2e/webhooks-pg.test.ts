/**
 * Webhook hints across two stateless replicas on one PostgreSQL database: a job created through replica A
 * is hooked through replica B (any replica behind the load balancer may get the hook), is polled at once,
 * and the same capability replayed through A finds nothing and polls nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { connectHttp, spawnHttp, type HttpClient, type HttpServerProcess } from '../helpers/http-server.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { text } from '../helpers/stdio.js';

requirePg('webhook hints across two replicas on PostgreSQL');
const PUBLIC = 'https://mcp.example.test';
const TOOL = 'ph0ny_video_generate';
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
let sandbox: Sandbox;
let db: { url: string; drop: () => Promise<void> };
let a: HttpServerProcess;
let b: HttpServerProcess;
let client: HttpClient;

beforeAll(async () => {
  if (!HAS_PG) return;
  sandbox = await startSandbox({ pollsToComplete: 6 });
  db = await freshDatabase();
  const env = {
    PH0NY_BASE_URL: sandbox.baseUrl('ph0ny', 'https://persona-labsvoice-api-production.up.railway.app/v1'),
    PH0NY_API_KEY: sandbox.key,
    // A poll interval far past the test: a poll that happens now is the hook's doing.
    MEDIAGEN_POLL_MS: '60000',
    DATABASE_URL: db.url,
  };
  const args = ['--stateless', '--public-url', PUBLIC, '--toolsets', 'ph0ny'];
  [a, b] = await Promise.all([
    spawnHttp({ ...env, MEDIAGEN_STATE_DIR: tempDir() }, args),
    spawnHttp({ ...env, MEDIAGEN_STATE_DIR: tempDir() }, args),
  ]);
  client = await connectHttp(a.url);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await a?.stop();
  await b?.stop();
  await sandbox?.close();
  await db?.drop();
});

describe.runIf(HAS_PG)('webhook hints across replicas', () => {
  it('a job created through A and hooked through B is polled at once; a replay through A is 404', async () => {
    const first = await client.call(TOOL, { prompt: 'a wave across replicas' });
    expect(sc(first).code, text(first)).toBe('CONFIRMATION_REQUIRED');
    const r = await client.call(TOOL, { prompt: 'a wave across replicas', confirm_token: sc(first).confirm_token });
    expect(r.isError, text(r)).toBeFalsy();
    const providerJobId = sc(r).provider_job_id as string;
    const sent = sandbox.job('ph0ny', providerJobId)?.meta.webhookUrl as string;
    const path = new URL(sent).pathname;
    expect(path).toMatch(/^\/hooks\/[A-Za-z0-9_-]{43}$/);
    const polls = () => sandbox.job('ph0ny', providerJobId)?.polls ?? 0;
    expect(polls()).toBe(0);

    const hook = await fetch(new URL(path, b.url), { method: 'POST', body: '{"status":"completed"}' });
    expect(hook.status).toBe(204);
    for (let i = 0; i < 400 && polls() === 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(polls()).toBe(1);

    const total = sandbox.stats().total;
    const replay = await fetch(new URL(path, a.url), { method: 'POST', body: '{}' });
    expect(replay.status).toBe(404);
    await new Promise((res) => setTimeout(res, 500));
    expect(sandbox.stats().total).toBe(total);
  });
});
