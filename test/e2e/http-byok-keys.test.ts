/**
 * Per-request provider keys (--byok): which key each provider request goes with. A job goes with the key
 * it was created with (the server's, whatever header a later request carries); a task-augmented call that
 * would use the request's key is refused before anything is reserved or sent; a header naming no provider
 * served here is a 400; a request with its own key neither reads nor fills the shared balance cache.
 * The sandbox takes only the server's key here: a request it calls unauthorized went with another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateTaskResultSchema, ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { INIT, MCP_HEADERS, spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { text } from '../helpers/stdio.js';

const SERVER_KEY = 'the-servers-own-key-the-sandbox-takes';
const OTHER = 'another-accounts-key-the-sandbox-refuses';
const SORA = 'phaya_sora2_text_to_video';
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

interface Conn {
  client: Client;
  call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
  /** The consent forms' messages (declined) when made with `elicit`. */
  forms: string[];
  close: () => Promise<void>;
}

async function connect(url: string, token: string, key?: string, elicit = false): Promise<Conn> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (key) headers['X-Mediagen-Key-Phaya'] = key;
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client(
    { name: 'byok-keys', version: '1.0.0' },
    { capabilities: elicit ? { elicitation: {} } : {} },
  );
  const forms: string[] = [];
  if (elicit)
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      forms.push(req.params.message);
      return { action: 'decline' };
    });
  await client.connect(transport);
  return {
    client,
    forms,
    call: async (name, a = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult,
    close: () => client.close(),
  };
}

let sandbox: Sandbox;
let server: HttpServerProcess;
let tokens: Record<string, string>;
const since = (n: number) => sandbox.stats().requests.slice(n);

beforeAll(async () => {
  sandbox = await startSandbox({ key: SERVER_KEY, pollsToComplete: 100_000 });
  const dir = tempDir();
  const t = writeTokens(dir, { alice: {} });
  tokens = t.tokens;
  server = await spawnHttp(
    {
      PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
      PHAYA_API_KEY: SERVER_KEY,
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_POLL_MS: '100',
    },
    ['--tokens-file', t.file, '--byok'],
  );
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

describe('--byok: the key a provider request goes with', () => {
  it("a job created with the server's key is polled and cancelled with it, whatever key the request sends", async () => {
    const plain = await connect(server.url, tokens.alice);
    const ask = await plain.call(SORA, { prompt: 'a paper boat' });
    expect(sc(ask).code, text(ask)).toBe('CONFIRMATION_REQUIRED');
    const created = await plain.call(SORA, { prompt: 'a paper boat', confirm_token: sc(ask).confirm_token });
    expect(created.isError, text(created)).toBeFalsy();
    const id = String(sc(created).job_id);
    await plain.close();
    const own = await connect(server.url, tokens.alice, OTHER);
    const before = sandbox.stats().total;
    const got = await own.call('jobs_get', { job_id: id });
    expect(got.isError, text(got)).toBeFalsy();
    const done = await own.call('jobs_cancel', { job_id: id });
    expect(sc(done).status, text(done)).toBe('cancelled');
    const sent = since(before);
    expect(sent.some((q) => q.method === 'POST' || q.method === 'DELETE')).toBe(true);
    expect(sent.every((q) => q.authorized)).toBe(true);
    await own.close();
  });

  it('a task-augmented call that would use the request key is refused: nothing sent, nothing reserved', async () => {
    const own = await connect(server.url, tokens.alice, OTHER);
    const spendBefore = JSON.stringify(sc(await own.call('spend_report', {})).providers);
    const before = sandbox.stats().total;
    await expect(
      own.client.request(
        { method: 'tools/call', params: { name: 'phaya_text_to_image', arguments: { prompt: 'a kite' }, task: {} } },
        CreateTaskResultSchema,
      ),
    ).rejects.toThrow(/X-Mediagen-Key-phaya[^]*without "task"/);
    expect(sandbox.stats().total).toBe(before);
    expect(JSON.stringify(sc(await own.call('spend_report', {})).providers)).toBe(spendBefore);
    await own.close();
  });

  it('a header naming no provider served here is a 400 naming it and the ones it may name, never the value', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${tokens.alice}`, 'X-Mediagen-Key-media-io': OTHER },
      body: JSON.stringify(INIT),
    });
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(body).toContain('X-Mediagen-Key-media-io');
    expect(body).toContain('phaya');
    expect(body).not.toContain(OTHER);
  });

  it('a request with its own key neither reads nor fills the shared balance cache', async () => {
    const own = await connect(server.url, tokens.alice, OTHER, true);
    const plain = await connect(server.url, tokens.alice, undefined, true);
    let before = sandbox.stats().total;
    const first = await own.call(SORA, { prompt: 'a red kite' });
    expect(sc(first).code, text(first)).toBe('CONSENT_DECLINED');
    expect(own.forms[0]).not.toContain('Balance:');
    expect(sandbox.stats().total).toBe(before);
    before = sandbox.stats().total;
    const second = await plain.call(SORA, { prompt: 'a red kite' });
    expect(sc(second).code, text(second)).toBe('CONSENT_DECLINED');
    expect(plain.forms[0]).toContain('Balance:');
    expect(since(before).map((q) => [q.method, q.authorized])).toEqual([['GET', true]]);
    before = sandbox.stats().total;
    const third = await own.call(SORA, { prompt: 'a red kite' });
    expect(sc(third).code, text(third)).toBe('CONSENT_DECLINED');
    expect(own.forms[1]).not.toContain('Balance:');
    expect(sandbox.stats().total).toBe(before);
    await own.close();
    await plain.close();
  });
});

describe('--byok: the rate limit follows the key sent', () => {
  it("a request's own key counts in its own bucket, not the one the server's key has used up", async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {} });
    const limited = await spawnHttp(
      {
        PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
        PHAYA_API_KEY: SERVER_KEY,
        MEDIAGEN_STATE_DIR: dir,
      },
      ['--tokens-file', t.file, '--byok', '--rate-limit', 'phaya=1/600'],
    );
    try {
      const plain = await connect(limited.url, t.tokens.alice);
      const before = sandbox.stats().total;
      const first = await plain.call('phaya_text_to_image', { prompt: 'a kite' });
      expect(first.isError, text(first)).toBeFalsy(); // the server key's one start in 600 s
      await plain.close();
      const own = await connect(limited.url, t.tokens.alice, OTHER);
      // Bounded: in the server key's bucket this call would wait about ten minutes for a start.
      const second = await Promise.race([
        own.call('phaya_text_to_image', { prompt: 'a kite' }),
        new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 30_000)),
      ]);
      expect(second).not.toBe('waiting');
      expect(sc(second as CallToolResult).code, text(second as CallToolResult)).toBe('PROVIDER_AUTH');
      expect(since(before).map((q) => [q.method, q.authorized])).toEqual([
        ['POST', true],
        ['POST', false],
      ]);
      await own.close();
    } finally {
      await limited.stop();
    }
  }, 60_000);
});

describe('--byok: an unknown outcome with the request key', () => {
  it('OUTCOME_UNKNOWN says the job is in your own account and jobs_track needs the header again', async () => {
    const OWN = 'the-callers-own-key-the-sandbox-takes';
    const mine = await startSandbox({ key: OWN });
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {} });
    const srv = await spawnHttp(
      {
        PHAYA_BASE: mine.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
        PHAYA_API_KEY: SERVER_KEY,
        MEDIAGEN_STATE_DIR: dir,
      },
      ['--tokens-file', t.file, '--byok'],
    );
    try {
      const own = await connect(srv.url, t.tokens.alice, OWN);
      const r = await own.call('phaya_text_to_image', { prompt: 'a kite sandbox:lost' });
      expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
      expect(String(sc(r).hint)).toContain('send X-Mediagen-Key-phaya again with jobs_track');
      expect(mine.stats().requests.map((q) => q.authorized)).toEqual([true]);
      expect(JSON.stringify(r)).not.toContain(OWN);
      await own.close();
    } finally {
      await srv.stop();
      await mine.close();
    }
  });
});
