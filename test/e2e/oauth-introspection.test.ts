/**
 * --auth oauth with --oauth-introspection: opaque access tokens from the real test authorization server,
 * checked at its RFC 7662 endpoint with this server's client; and the policy file: a subject outside it is
 * refused when the defaults refuse, a group's entry gives its settings. Refusals make no provider request.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { startAuthServer, type TestAuthServer } from '../helpers/oidc.js';
import { ARGS, freePort, initialize, PAID, paidCall, post } from '../helpers/oauth-e2e.js';

let as: TestAuthServer;
let sandbox: Sandbox;
let server: HttpServerProcess;
let resource: string;

beforeAll(async () => {
  [as, sandbox] = await Promise.all([startAuthServer({ tokenFormat: 'opaque' }), startSandbox({ pollsToComplete: 2 })]);
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  const dir = tempDir();
  const policy = join(dir, 'policy.json');
  writeFileSync(
    policy,
    JSON.stringify({
      version: 1,
      groupClaim: 'groups',
      defaults: { refuse: true },
      subjects: { alice: {} },
      groups: { viewers: { readOnly: true } },
    }),
  );
  server = await spawnHttp(
    {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: sandbox.key,
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
      MEDIAGEN_WORKER: '0',
      MEDIAGEN_OAUTH_CLIENT_SECRET: as.rsClientSecret,
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
      '--oauth-introspection',
      as.introspectionEndpoint,
      '--oauth-client-id',
      as.rsClientId,
      '--oauth-policy',
      policy,
    ],
  );
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([as?.stop(), sandbox?.close()]);
});

describe('--auth oauth with introspection and a policy file', () => {
  it('an opaque token the authorization server vouches for runs a paid tool with one provider request', async () => {
    const token = await as.mintToken({ audience: resource, subject: 'alice' });
    expect(token.split('.')).toHaveLength(1); // opaque, not a JWT
    const alice = await connectHttp(server.url, token);
    try {
      sandbox.reset();
      const r = await alice.call(PAID, ARGS);
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(sandbox.stats().total).toBe(1);
    } finally {
      await alice.close();
    }
  });

  it('inactive and wrong-audience tokens: 401; a subject outside the policy: 403; no provider request', async () => {
    const cases: [string, string, number][] = [
      ['inactive (never issued)', 'not-a-token-the-server-issued', 401],
      ['wrong audience', await as.mintToken({ audience: 'http://127.0.0.1:9/mcp', subject: 'alice' }), 401],
      ['not in the policy, defaults refuse', await as.mintToken({ audience: resource, subject: 'mallory' }), 403],
    ];
    sandbox.reset();
    for (const [what, token, status] of cases) {
      const res = await post(server.url, token, initialize);
      expect(res.status, what).toBe(status);
      expect(await res.text(), what).not.toContain(token);
    }
    expect(sandbox.stats().total).toBe(0);
  });

  it("a group's entry gives its settings: a viewer lists no paid tool, and calling one makes no provider request", async () => {
    const token = await as.mintToken({ audience: resource, subject: 'victor', claims: { groups: ['viewers'] } });
    const victor = await connectHttp(server.url, token);
    try {
      const names = (await victor.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('jobs_list');
      expect(names).not.toContain(PAID);
      sandbox.reset();
      const r = await victor.call(PAID, ARGS);
      expect(r.isError).toBe(true);
      expect(sandbox.stats().total).toBe(0);
    } finally {
      await victor.close();
    }
    // The same refusal reached without a session, as a raw call.
    expect((await post(server.url, token, paidCall)).status).toBe(400);
  });
});
