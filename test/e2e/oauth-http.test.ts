/**
 * --auth oauth end to end: the built CLI over Streamable HTTP, a real authorization server (oidc-provider
 * in its own process, test/helpers/oidc.ts) and the sandbox. The SDK client's own OAuth finds the server
 * from the 401, registers, authorizes and calls tools; two subjects are kept apart; every refusal has its
 * status and makes zero provider requests; a rotated key is picked up without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { testOAuthClient } from '../helpers/oidc-client.js';
import { startAuthServer, type TestAuthServer } from '../helpers/oidc.js';
import { ARGS, freePort, initialize, PAID, paidCall, post } from '../helpers/oauth-e2e.js';

const READ = 'mediagen:read';
const GENERATE = 'mediagen:generate';

let as: TestAuthServer;
let other: TestAuthServer;
let sandbox: Sandbox;
let server: HttpServerProcess;
let url: string;
let resource: string;

beforeAll(async () => {
  [as, other, sandbox] = await Promise.all([
    startAuthServer(),
    startAuthServer(),
    startSandbox({ pollsToComplete: 2 }),
  ]);
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  server = await spawnHttp(
    {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: sandbox.key,
      MEDIAGEN_STATE_DIR: tempDir(),
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
      MEDIAGEN_WORKER: '0',
      MEDIAGEN_OAUTH_JWKS_COOLDOWN_SECONDS: '1',
    },
    [
      '--port',
      String(port),
      '--auth',
      'oauth',
      '--oauth-issuer',
      as.issuer,
      '--public-url',
      `http://127.0.0.1:${port}`,
      // The refusal tests send many bad tokens from one address: room enough that none meets 429.
      '--http-auth-fail-rate',
      '1000/60',
    ],
  );
  url = server.url;
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([as?.stop(), other?.stop(), sandbox?.close()]);
});

const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('--auth oauth end to end', () => {
  it("the SDK client's own OAuth: discovers from the 401, registers, authorizes (PKCE, resource), finishes and calls tools", async () => {
    const provider = testOAuthClient(as, { subject: 'carol' });
    const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    await expect(new Client({ name: 'oauth-e2e', version: '1' }).connect(first)).rejects.toThrow(UnauthorizedError);
    expect(provider.authorizations).toBe(1);
    expect((await provider.clientInformation())?.client_id).toBeTruthy(); // registered dynamically
    await first.finishAuth(provider.code!);
    const token = provider.saved!.access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: as.issuer, aud: resource, sub: 'carol' });
    const client = new Client({ name: 'oauth-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('jobs_list');
      expect(names).toContain(PAID);
      sandbox.reset();
      const r = (await client.callTool({ name: PAID, arguments: ARGS })) as CallToolResult;
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(sandbox.stats().total).toBe(1);
      // The provider got the server's own key, never the client's token.
      expect(sandbox.stats().requests.every((q) => q.authorized)).toBe(true);
      expect(JSON.stringify(sandbox.stats().requests)).not.toContain(token);
      expect(server.stderr()).not.toContain(token);
    } finally {
      await client.close();
    }
  });

  it("two subjects are scoped apart: one never sees the other's job", async () => {
    const alice = await connectHttp(url, await as.mintToken({ audience: resource, subject: 'alice' }));
    const bob = await connectHttp(url, await as.mintToken({ audience: resource, subject: 'bob' }));
    try {
      const r = await alice.call(PAID, ARGS);
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      const id = sc(r).job_id as string;
      expect(sc(await alice.call('jobs_get', { job_id: id })).job_id).toBe(id);
      expect(sc(await bob.call('jobs_get', { job_id: id })).code).toBe('NOT_FOUND');
      expect(JSON.stringify(sc(await bob.call('jobs_list', {})))).not.toContain(id);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('each bad token is refused with its status and the challenge, and no provider request is made', async () => {
    // A session opened with a good token; every refused request below names it.
    const opened = await post(url, await as.mintToken({ audience: resource, subject: 'dave' }), initialize);
    expect(opened.status).toBe(200);
    const session = opened.headers.get('mcp-session-id') ?? undefined;
    const jwk = ((await (await fetch(as.jwksUri)).json()) as { keys: JWK[] }).keys[0];
    const stranger = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'dave', scope: `${READ} ${GENERATE}` };
    const cases: [string, string, number, RegExp][] = [
      [
        'wrong audience',
        await as.mintToken({ audience: 'http://127.0.0.1:9/mcp', subject: 'dave' }),
        401,
        /invalid_token/,
      ],
      [
        'expired',
        await as.mintToken({ audience: resource, subject: 'dave', claims: { exp: now - 3600, iat: now - 7200 } }),
        401,
        /invalid_token/,
      ],
      ['another issuer', await other.mintToken({ audience: resource, subject: 'dave' }), 401, /invalid_token/],
      [
        'a key the JWKS does not hold',
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'not-in-the-jwks' })
          .setIssuer(as.issuer)
          .setAudience(resource)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(stranger.privateKey),
        401,
        /invalid_token/,
      ],
      [
        'alg none',
        `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, iss: as.issuer, aud: resource, iat: now, exp: now + 300 })}.`,
        401,
        /invalid_token/,
      ],
      [
        'HS256 signed with the public key',
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
          .setIssuer(as.issuer)
          .setAudience(resource)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(Buffer.from(await exportSPKI((await importJWK(jwk, 'RS256')) as CryptoKey))),
        401,
        /invalid_token/,
      ],
      [
        'no mediagen scope',
        await as.mintToken({ audience: resource, subject: 'dave', scopes: ['openid'] }),
        403,
        /scope="mediagen:read", error="insufficient_scope"/,
      ],
      [
        'a missing scope for a paid tool',
        await as.mintToken({ audience: resource, subject: 'dave', scopes: [READ] }),
        403,
        /scope="mediagen:generate", error="insufficient_scope"/,
      ],
    ];
    sandbox.reset();
    for (const [what, token, status, challenge] of cases) {
      const res = await post(url, token, paidCall, session);
      expect(res.status, what).toBe(status);
      const header = res.headers.get('www-authenticate') ?? '';
      expect(header, what).toMatch(
        /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
      );
      expect(header, what).toMatch(challenge);
      expect(header, what).not.toContain(token);
    }
    expect(sandbox.stats().total).toBe(0);
    expect(server.stderr()).not.toContain(cases[0][1]);
  });

  it('a rotated signing key is picked up without a restart', async () => {
    expect((await post(url, undefined, initialize)).status).toBe(401); // tokens are checked here
    const { kid } = await as.rotateKey();
    // The least time between two key set fetches is 1 s here: wait it out (no timing is asserted).
    await new Promise((r) => setTimeout(r, 1100));
    const token = await as.mintToken({ audience: resource, subject: 'erin', scopes: [READ] });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid).toBe(kid);
    const erin = await connectHttp(url, token);
    try {
      expect((await erin.call('jobs_list', {})).isError).toBeFalsy();
    } finally {
      await erin.close();
    }
  });
});

describe('--auth oauth: failed bearer attempts from one address (--http-auth-fail-rate 2/3600)', () => {
  it('expired tokens of the real AS do not count; bad ones get 429; a valid token from that address is served', async () => {
    const port = await freePort();
    const limited = await spawnHttp(
      {
        MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
        MEDIAIO_API_KEY: sandbox.key,
        MEDIAGEN_STATE_DIR: tempDir(),
        MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
        MEDIAGEN_WORKER: '0',
      },
      [
        ...['--port', String(port), '--auth', 'oauth', '--oauth-issuer', as.issuer],
        ...['--public-url', `http://127.0.0.1:${port}`, '--http-auth-fail-rate', '2/3600'],
      ],
    );
    try {
      const audience = `http://127.0.0.1:${port}/mcp`;
      const now = Math.floor(Date.now() / 1000);
      const expired = await as.mintToken({ audience, subject: 'fay', claims: { exp: now - 3600, iat: now - 7200 } });
      for (let i = 0; i < 4; i++)
        expect((await post(limited.url, expired, initialize)).status, `expired ${i}`).toBe(401);
      const forged = await other.mintToken({ audience, subject: 'fay' });
      for (let i = 0; i < 2; i++) expect((await post(limited.url, forged, initialize)).status, `forged ${i}`).toBe(401);
      expect((await post(limited.url, forged, initialize)).status).toBe(429);
      sandbox.reset();
      const valid = await as.mintToken({ audience, subject: 'fay' });
      expect((await post(limited.url, valid, initialize)).status).toBe(200);
      expect(sandbox.stats().total).toBe(0);
    } finally {
      await limited.stop();
    }
  });
});
