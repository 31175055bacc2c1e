/**
 * The HTTP side of --auth oauth with a verifier the test drives (tokens named by the test, grants it
 * chooses): the protected resource metadata, the 401 / 403 challenges, scopes checked before the body
 * reaches MCP (zero provider requests), the tool list of a read-only grant, and OAuth principals kept
 * apart. The real verifier against a real authorization server: test/e2e/oauth-*.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuthGrant, AuthResult, TokenVerifier } from '../../src/auth/types.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startHosting, type Hosted } from '../../src/hosting.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { UI_EXTENSION, VIEW_MIME } from '../../src/views/uris.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';

const PUBLIC = 'https://mcp.example.test';
const ISSUER = 'https://as.example.test';
const PAID = 'mediaio_t2i_imagen_4';
const ARGS = { prompt: 'a lighthouse', counts: '1' };

const grant = (principal: string, scopes: string[]): AuthGrant => ({
  principal,
  scopes: new Set(scopes),
  claims: { sub: principal },
  machine: false,
});
const GRANTS: Record<string, AuthGrant> = {
  'tok-alice': grant('alice', ['mediagen:read', 'mediagen:generate']),
  'tok-bob': grant('bob', ['mediagen:read', 'mediagen:generate']),
  'tok-reader': grant('reader', ['mediagen:read']),
  'tok-none': grant('nobody', ['openid']),
  'tok-maker': grant('maker', ['mediagen:generate']),
  'tok-alice-read': grant('alice', ['mediagen:read']),
  'tok-alice-team': {
    ...grant('alice', ['mediagen:read', 'mediagen:generate']),
    claims: { sub: 'alice', groups: ['team'] },
  },
  'tok-bidi': grant('eve\u202Eecila', ['mediagen:read', 'mediagen:generate']),
  'tok-local': grant('local', ['mediagen:read', 'mediagen:generate']),
};
const verifier: TokenVerifier = {
  ready: () => Promise.resolve(),
  verify: (token): Promise<AuthResult> =>
    Promise.resolve(
      GRANTS[token]
        ? { ok: true, grant: GRANTS[token] }
        : token === 'tok-expired'
          ? {
              ok: false,
              failure: {
                status: 401,
                error: 'invalid_token',
                description: 'the access token has expired',
                expired: true,
              },
            }
          : { ok: false, failure: { status: 401, error: 'invalid_token', description: 'token signature invalid' } },
    ),
};

let sandbox: Sandbox;
let hosted: Hosted;
let base: string;
const clients: Client[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
  const dir = tempDir();
  const policy = join(dir, 'policy.json');
  writeFileSync(
    policy,
    JSON.stringify({ version: 1, groupClaim: 'groups', defaults: {}, subjects: {}, groups: { team: {} } }),
  );
  const { config } = loadConfig(
    [
      ...['--transport', 'http', '--port', '0', '--auth', 'oauth', '--oauth-issuer', ISSUER, '--public-url', PUBLIC],
      ...['--oauth-policy', policy],
    ],
    {
      MEDIAGEN_STATE_DIR: dir,
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: sandbox.key,
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
      MEDIAGEN_WORKER: '0',
    },
  );
  hosted = await startHosting(config, createLogger('error'), { verifier });
  base = hosted.handle.url.replace(/\/mcp$/, '');
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await hosted?.stop();
  await sandbox?.close();
});

async function connect(token: string, apps = false): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client(
    { name: 'oauth-http', version: '1.0.0' },
    apps ? { capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } } } : undefined,
  );
  await client.connect(transport);
  clients.push(client);
  return client;
}

const initialize = (token?: string, body: unknown = init(1)): Promise<Response> =>
  fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
const init = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('--auth oauth over HTTP', () => {
  it('serves the protected resource metadata at both RFC 9728 paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject({
        resource: `${PUBLIC}/mcp`,
        authorization_servers: [ISSUER],
        scopes_supported: ['mediagen:read', 'mediagen:generate'],
        bearer_methods_supported: ['header'],
      });
    }
  });

  it('401 without a token names the resource metadata and the scopes; a bad token adds invalid_token', async () => {
    const none = await initialize();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp", scope="mediagen:read mediagen:generate"`,
    );
    const bad = await initialize('tok-forged');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp", scope="mediagen:read mediagen:generate", error="invalid_token", error_description="token signature invalid"`,
    );
  });

  it('a subject holding bidi control characters, or named `local`, is refused: 403 before MCP', async () => {
    for (const token of ['tok-bidi', 'tok-local']) {
      const res = await initialize(token);
      expect(res.status, token).toBe(403);
      expect(JSON.stringify(await res.json()), token).toMatch(/bidirectional control characters|is reserved/);
    }
  });

  it('a session is bound to its policy entry and scope set: a grant resolving otherwise gets 404 Session not found', async () => {
    const opened = await initialize('tok-alice');
    expect(opened.status).toBe(200);
    const sid = opened.headers.get('mcp-session-id') ?? '';
    expect(sid).not.toBe('');
    const list = (token: string): Promise<Response> =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'Mcp-Session-Id': sid,
          'Mcp-Protocol-Version': '2025-03-26',
          Authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
      });
    expect((await list('tok-alice-read')).status, 'another scope set').toBe(404);
    expect((await list('tok-alice-team')).status, 'another policy entry').toBe(404);
    const same = await list('tok-alice');
    expect(same.status, 'the grant that opened it').toBe(200);
    expect(await same.text()).toContain(PAID);
  });

  it('apps-capable clients: mediagen_approve is hidden and refused without generate, media_thumbnail without read', async () => {
    sandbox.reset();
    const reader = await connect('tok-reader', true);
    const read = (await reader.listTools()).tools.map((t) => t.name);
    expect(read).toContain('media_thumbnail');
    expect(read).not.toContain('mediagen_approve');
    await expect(reader.callTool({ name: 'mediagen_approve', arguments: {} })).rejects.toThrow(
      /needs the mediagen:generate scope/,
    );
    const maker = await connect('tok-maker', true);
    const made = (await maker.listTools()).tools.map((t) => t.name);
    expect(made).toContain('mediagen_approve');
    expect(made).not.toContain('media_thumbnail');
    await expect(maker.callTool({ name: 'media_thumbnail', arguments: {} })).rejects.toThrow(
      /needs the mediagen:read scope/,
    );
    expect(sandbox.stats().total).toBe(0);
  });

  it('a read-only grant: jobs_cancel and tasks/cancel are 403 insufficient_scope naming mediagen:generate', async () => {
    sandbox.reset();
    const calls = [
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'jobs_cancel', arguments: { job_id: 'job_x' } } },
      { jsonrpc: '2.0', id: 2, method: 'tasks/cancel', params: { taskId: 'task-x' } },
    ];
    for (const call of calls) {
      const res = await initialize('tok-reader', [init(1), call]);
      expect(res.status, call.method).toBe(403);
      expect(res.headers.get('www-authenticate'), call.method).toMatch(
        /scope="mediagen:generate", error="insufficient_scope"/,
      );
    }
    expect(sandbox.stats().total).toBe(0);
  });

  it('a 401 / 403 challenge to an allowed Origin exposes WWW-Authenticate (CORS)', async () => {
    const origin = new URL(base).origin;
    const ask = (token: string | undefined, body: unknown): Promise<Response> =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Origin: origin,
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const paidCall = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: PAID, arguments: ARGS } };
    for (const [what, res, status] of [
      ['no token', await ask(undefined, init(1)), 401],
      ['no mediagen scope', await ask('tok-none', init(1)), 403],
      ['a paid call with read only', await ask('tok-reader', [init(1), paidCall]), 403],
    ] as const) {
      expect(res.status, what).toBe(status);
      expect(res.headers.get('access-control-allow-origin'), what).toBe(origin);
      expect(res.headers.get('access-control-expose-headers'), what).toBe('WWW-Authenticate');
    }
    expect((await initialize()).headers.get('access-control-expose-headers')).toBeNull();
  });

  it('a token with no mediagen scope at all: 403 insufficient_scope naming mediagen:read', async () => {
    const res = await initialize('tok-none');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mediagen:read", error="insufficient_scope"/);
  });

  it('a read-only grant lists only free tools, and a paid call (alone or in a batch) is 403 before MCP: zero provider requests', async () => {
    const reader = await connect('tok-reader');
    const names = (await reader.listTools()).tools.map((t) => t.name);
    expect(names).toContain('jobs_list');
    expect(names).toContain('quote');
    for (const hidden of [PAID, 'jobs_cancel', 'media_upload', 'mediagen_approve'])
      expect(names, hidden).not.toContain(hidden);
    sandbox.reset();
    await expect(reader.callTool({ name: PAID, arguments: ARGS })).rejects.toThrow(
      /403|insufficient_scope|mediagen:generate/,
    );
    await expect(reader.callTool({ name: 'jobs_cancel', arguments: { job_id: 'job_x' } })).rejects.toThrow();
    const batch = await initialize('tok-reader', [
      init(1),
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: PAID, arguments: ARGS } },
    ]);
    expect(batch.status).toBe(403);
    expect(batch.headers.get('www-authenticate')).toMatch(/scope="mediagen:generate", error="insufficient_scope"/);
    expect(sandbox.stats().total).toBe(0);
    const free = (await reader.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
    expect(free.isError).toBeFalsy();
  });

  it('mediagen:generate does not imply read: a generate-only grant lists no free tool, and a free call is 403 naming mediagen:read', async () => {
    const maker = await connect('tok-maker');
    const names = (await maker.listTools()).tools.map((t) => t.name);
    expect(names).toContain(PAID);
    expect(names).not.toContain('jobs_list');
    await expect(maker.callTool({ name: 'jobs_list', arguments: {} })).rejects.toThrow(/needs the mediagen:read scope/);
    const res = await initialize('tok-maker', [
      init(1),
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'jobs_list', arguments: {} } },
    ]);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mediagen:read", error="insufficient_scope"/);
  });

  it('a generate grant runs a paid tool with exactly one provider request; another principal cannot see its job', async () => {
    const alice = await connect('tok-alice');
    const bob = await connect('tok-bob');
    expect((await alice.listTools()).tools.map((t) => t.name)).toContain(PAID);
    sandbox.reset();
    const r = (await alice.callTool({ name: PAID, arguments: ARGS })) as CallToolResult;
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(sandbox.stats().total).toBe(1);
    const id = (r.structuredContent as { job_id: string }).job_id;
    const theirs = (await bob.callTool({ name: 'jobs_get', arguments: { job_id: id } })) as CallToolResult;
    expect((theirs.structuredContent as { code: string }).code).toBe('NOT_FOUND');
    const list = (await bob.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
    expect(JSON.stringify(list.structuredContent)).not.toContain(id);
    expect(sandbox.stats().total).toBe(1);
  });
});

describe('--auth oauth: failed bearer attempts per address (--http-auth-fail-rate 3/3600)', () => {
  let limited: Hosted;
  let url: string;
  const logged: string[] = [];
  beforeAll(async () => {
    const { config } = loadConfig(
      [
        ...['--transport', 'http', '--port', '0', '--auth', 'oauth', '--oauth-issuer', ISSUER, '--public-url', PUBLIC],
        ...['--http-auth-fail-rate', '3/3600'],
      ],
      {
        MEDIAGEN_STATE_DIR: tempDir(),
        MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
        MEDIAIO_API_KEY: sandbox.key,
        MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
        MEDIAGEN_WORKER: '0',
      },
    );
    limited = await startHosting(
      config,
      createLogger('warn', [], (line) => logged.push(line)),
      { verifier },
    );
    url = limited.handle.url;
  });
  afterAll(async () => {
    await limited?.stop();
  });
  const post = (token: string): Promise<Response> =>
    fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(init(1)),
    });

  it('without --oauth-policy, the start warns that every subject spends the server credits, pointing at defaults.refuse', () => {
    expect(logged.join('\n')).toMatch(/no --oauth-policy.*defaults.*refuse/);
  });

  it('expired tokens do not count; a flood of bad tokens gets 429 while a valid token from the same address is served', async () => {
    for (let i = 0; i < 6; i++) expect((await post('tok-expired')).status, `expired ${i}`).toBe(401);
    for (let i = 0; i < 3; i++) expect((await post(`tok-forged-${i}`)).status, `forged ${i}`).toBe(401);
    const flood = await post('tok-forged-x');
    expect(flood.status).toBe(429);
    expect(flood.headers.get('retry-after')).toMatch(/^\d+$/);
    sandbox.reset();
    const ok = await post('tok-alice');
    expect(ok.status).toBe(200);
    expect((await post('tok-reader')).status).toBe(200);
    expect((await post('tok-forged-y')).status).toBe(429);
    expect(sandbox.stats().total).toBe(0);
  });
});
