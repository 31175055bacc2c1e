/** Every hardening rule of the HTTP transport, each with a real HTTP request to the built server. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/in-memory.js';
import { CLI } from '../helpers/paths.js';
import {
  connectHttp,
  INIT,
  MCP_HEADERS,
  spawnHttp,
  writeTokens,
  type HttpServerProcess,
} from '../helpers/http-server.js';

let server: HttpServerProcess;
let tokens: Record<string, string>;
const base = (): string => server.url.replace(/\/mcp$/, '');

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const auth = (who: string): Record<string, string> => ({ Authorization: `Bearer ${tokens[who]}` });

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { alice: {}, bob: {}, rate: {} });
  tokens = t.tokens;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir }, [
    '--tokens-file',
    t.file,
    '--allowed-origins',
    'https://agents.example',
    '--allowed-hosts',
    'mcp.internal',
    '--max-body',
    '4096',
    '--http-rate',
    '40/60',
  ]);
});
afterAll(async () => {
  await server?.stop();
});

describe('HTTP hardening', () => {
  it('refuses a non-loopback bind without bearer tokens: exit 2 and one clear line', () => {
    const r = spawnSync(process.execPath, [CLI, '--transport', 'http', '--host', '0.0.0.0', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir() },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^mediagen-mcp: refusing to serve HTTP on non-loopback address 0\.0\.0\.0 without bearer tokens/,
    );
  });

  it('/healthz answers without auth; /readyz says the store is reachable', async () => {
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
    const r = await fetch(`${base()}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready' });
  });

  it('401 with WWW-Authenticate: Bearer and a JSON-RPC error body, for a missing or unknown token', async () => {
    const none = await post(INIT);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await none.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 }, id: null });
    const wrong = await post(INIT, { Authorization: 'Bearer not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(server.stderr()).not.toContain('not-a-token');
    expect(server.stderr()).not.toContain(tokens.alice);
  });

  it('403 for a foreign Origin; no Origin and an allowed Origin pass', async () => {
    const bad = await post(INIT, { ...auth('alice'), Origin: 'https://evil.example' });
    expect(bad.status).toBe(403);
    expect((await bad.json()) as unknown).toMatchObject({ error: { message: /Origin/ } });
    expect((await post(INIT, auth('alice'))).status).toBe(200);
    expect((await post(INIT, { ...auth('alice'), Origin: 'https://agents.example' })).status).toBe(200);
  });

  it('403 for a Host header that is neither the bound host nor allowed (DNS rebinding)', async () => {
    const port = new URL(server.url).port;
    const rebind = (host: string) =>
      new Promise<number>((resolve, reject) => {
        void import('node:http').then(({ request }) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              path: '/mcp',
              method: 'POST',
              headers: { ...MCP_HEADERS, ...auth('alice'), Host: host },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify(INIT));
        });
      });
    expect(await rebind(`attacker.example:${port}`)).toBe(403);
    expect(await rebind(`mcp.internal:${port}`)).toBe(200);
    expect(await rebind(`localhost:${port}`)).toBe(200);
  });

  it('413 for a body over --max-body', async () => {
    const big = { ...INIT, params: { ...INIT.params, padding: 'x'.repeat(5000) } };
    const r = await post(big, auth('alice'));
    expect(r.status).toBe(413);
  });

  it('404 for an unknown Mcp-Session-Id; DELETE ends a session, which then answers 404', async () => {
    const unknown = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        ...auth('alice'),
        'Mcp-Session-Id': 'no-such-session',
      },
    );
    expect(unknown.status).toBe(404);
    const c = await connectHttp(server.url, tokens.alice);
    const sid = c.transport.sessionId ?? '';
    expect(sid).not.toBe('');
    const headers = { ...auth('alice'), 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-11-25' };
    // Another principal cannot use the session: the same 404 as a session that never existed.
    const foreign = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { ...headers, ...auth('bob') });
    expect(foreign.status).toBe(404);
    const del = await fetch(server.url, { method: 'DELETE', headers });
    expect(del.status).toBe(200);
    const after = await post({ jsonrpc: '2.0', id: 4, method: 'tools/list' }, headers);
    expect(after.status).toBe(404);
    await c.close().catch(() => undefined);
  });

  it('429 with Retry-After once one principal passes --http-rate; another principal is unaffected', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 45 && !limited; i++) {
      const r = await fetch(`${server.url}`, { method: 'GET', headers: { ...auth('rate'), 'Mcp-Session-Id': 'x' } });
      if (r.status === 429) limited = r;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await post(INIT, auth('bob'))).status).toBe(200);
  });
});

describe('HTTP sessions expire', () => {
  it('a session idle past MEDIAGEN_SESSION_IDLE_SECONDS answers 404; the client can initialise again', async () => {
    const s = await spawnHttp({ MEDIAGEN_STATE_DIR: tempDir(), MEDIAGEN_SESSION_IDLE_SECONDS: '1' });
    try {
      // A session opened by plain POSTs, with no SSE GET stream open (an open stream keeps its session).
      const init = await fetch(s.url, {
        method: 'POST',
        headers: MCP_HEADERS,
        body: JSON.stringify({ ...INIT, params: { ...INIT.params, protocolVersion: '2025-11-25' } }),
      });
      expect(init.status).toBe(200);
      await init.text();
      const headers = {
        'Mcp-Session-Id': init.headers.get('mcp-session-id') ?? '',
        'Mcp-Protocol-Version': '2025-11-25',
      };
      const note = await fetch(s.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });
      expect(note.status).toBe(202);
      await new Promise((r) => setTimeout(r, 2_500));
      const r = await fetch(s.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
      });
      expect(r.status).toBe(404);
      const again = await connectHttp(s.url);
      expect((await again.client.listTools()).tools.length).toBeGreaterThan(0);
      await again.close();
    } finally {
      await s.stop();
    }
  });
});
