/**
 * The OAuth resource server's token check against a real authorization server (oidc-provider in its own
 * process, test/helpers/oidc.ts): what it accepts, what it refuses and why, key rotation, introspection.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.js';
import { createVerifier, type VerifierConfig } from '../../src/auth/verify.js';
import type { TokenVerifier } from '../../src/auth/types.js';
import { decodeProtectedHeader } from 'jose';
import { testOAuthClient } from '../helpers/oidc-client.js';
import { foreignKeyToken, hs256WithPublicKey, unsignedToken } from '../helpers/oidc-forge.js';
import { SCOPE_GENERATE, SCOPE_READ } from '../../src/auth/types.js';
import { PolicyFileSchema, resolvePolicy } from '../../src/auth/policy.js';
import { MAX_CONCURRENT } from '../../src/auth/introspect.js';
import { startAuthServer, type TestAuthServer } from '../helpers/oidc.js';

const PUBLIC_URL = 'http://127.0.0.1:8931';
const RESOURCE = `${PUBLIC_URL}/mcp`;

function settings(as: TestAuthServer, over: Partial<VerifierConfig> = {}): VerifierConfig {
  return {
    oauthIssuer: as.issuer,
    oauthIntrospection: undefined,
    oauthClientId: undefined,
    oauthClientSecret: undefined,
    oauthPrincipalClaim: 'sub',
    oauthClockSkewSeconds: 30,
    oauthJwksCooldownSeconds: 30,
    publicUrl: PUBLIC_URL,
    ...over,
  };
}

let as: TestAuthServer;

beforeAll(async () => {
  as = await startAuthServer();
});
afterAll(async () => {
  await as?.stop();
});

describe('JWT access tokens checked against the issuer JWKS', () => {
  it('accepts a token minted for this resource: the subject is the principal, the scopes are granted', async () => {
    const verifier = createVerifier(settings(as), silentLogger);
    await verifier.ready();
    const token = await as.mintToken({ audience: RESOURCE, subject: 'alice', scopes: [SCOPE_READ, SCOPE_GENERATE] });
    const result = await verifier.verify(token);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.grant.principal).toBe('alice');
    expect([...result.grant.scopes].sort()).toEqual([SCOPE_GENERATE, SCOPE_READ]);
    expect(result.grant.claims.iss).toBe(as.issuer);
    expect(result.grant.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });
});

describe('the authorization code flow with PKCE, as an MCP client walks it', () => {
  it('registers dynamically, logs in a chosen subject with no person, and the token it gets is accepted', async () => {
    const redirectUri = 'http://127.0.0.1:1/callback';
    const reg = await fetch(as.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'test client',
      }),
    });
    expect(reg.status).toBe(201);
    const { client_id: clientId } = (await reg.json()) as { client_id: string };
    const verifierString = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifierString).digest('base64url');
    const url = new URL(`${as.issuer}/auth`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: `${SCOPE_READ} ${SCOPE_GENERATE}`,
      resource: RESOURCE,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
    }))
      url.searchParams.set(k, v);
    const { code, redirect } = await as.authorize(url, { subject: 'bob' });
    expect(redirect.searchParams.get('state')).toBe('st-1');
    const res = await fetch(as.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: clientId,
        code_verifier: verifierString,
        resource: RESOURCE,
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    const verifier = createVerifier(settings(as), silentLogger);
    const result = await verifier.verify(body.access_token as string);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (result.ok) {
      expect(result.grant.principal).toBe('bob');
      expect([...result.grant.scopes].sort()).toEqual([SCOPE_GENERATE, SCOPE_READ]);
    }
  });
});

/** The refusal's status and error, with the description for the failure message. */
async function refusal(verifier: TokenVerifier, token: string): Promise<string> {
  const result = await verifier.verify(token);
  if (result.ok) return `accepted as ${result.grant.principal}`;
  return `${result.failure.status} ${result.failure.error ?? '(no error code)'}: ${result.failure.description}`;
}

describe('JWT refusals: every one a 401 invalid_token', () => {
  let verifier: TokenVerifier;
  let other: TestAuthServer;
  beforeAll(async () => {
    verifier = createVerifier(settings(as), silentLogger);
    await verifier.ready();
    other = await startAuthServer();
  });
  afterAll(async () => {
    await other?.stop();
  });
  const now = (): number => Math.floor(Date.now() / 1000);

  it('an audience array that contains this resource is accepted', async () => {
    const token = await as.mintToken({
      audience: 'http://127.0.0.1:1/other',
      subject: 'alice',
      claims: { aud: ['http://127.0.0.1:1/other', RESOURCE] },
    });
    expect((await verifier.verify(token)).ok).toBe(true);
  });

  it('a token minted for another resource (wrong audience)', async () => {
    const token = await as.mintToken({ audience: `${PUBLIC_URL}/other`, subject: 'alice' });
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*not for this resource/);
    const bare = await as.mintToken({ audience: PUBLIC_URL, subject: 'alice' });
    expect(await refusal(verifier, bare)).toMatch(/^401 invalid_token: .*not for this resource/);
  });

  it('an expired token, and one within the clock skew only while the skew allows it', async () => {
    const expired = await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { exp: now() - 3600 } });
    expect(await refusal(verifier, expired)).toMatch(/^401 invalid_token: .*expired/);
    const justExpired = await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { exp: now() - 5 } });
    expect((await verifier.verify(justExpired)).ok).toBe(true);
    const strict = createVerifier(settings(as, { oauthClockSkewSeconds: 0 }), silentLogger);
    expect(await refusal(strict, justExpired)).toMatch(/^401 invalid_token: .*expired/);
  });

  it('a token not valid yet (nbf ahead of the skew), and one with no exp', async () => {
    const early = await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { nbf: now() + 3600 } });
    expect(await refusal(verifier, early)).toMatch(/^401 invalid_token: .*not valid yet/);
    const forever = await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { exp: null } });
    expect(await refusal(verifier, forever)).toMatch(/^401 invalid_token: .*exp/);
  });

  it('a token from another issuer: another server, or this server signing another iss', async () => {
    const foreign = await other.mintToken({ audience: RESOURCE, subject: 'alice' });
    expect(await refusal(verifier, foreign)).toMatch(/^401 invalid_token: /);
    const otherIss = await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { iss: other.issuer } });
    expect(await refusal(verifier, otherIss)).toMatch(/^401 invalid_token: .*another issuer/);
  });

  it('a token signed by a key the JWKS does not hold (its own kid, or the published kid)', async () => {
    const own = await foreignKeyToken(as, { audience: RESOURCE, subject: 'alice' });
    expect(await refusal(verifier, own)).toMatch(/^401 invalid_token: .*key the issuer does not publish/);
    const published = await foreignKeyToken(as, { audience: RESOURCE, subject: 'alice' }, { kid: 'published' });
    expect(await refusal(verifier, published)).toMatch(/^401 invalid_token: .*signature is invalid/);
  });

  it('alg none', async () => {
    const token = unsignedToken(as, { audience: RESOURCE, subject: 'alice' });
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*algorithm not allowed/);
  });

  it('HS256 signed with the issuer public key as the secret', async () => {
    const token = await hs256WithPublicKey(as, { audience: RESOURCE, subject: 'alice' });
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*algorithm not allowed/);
  });

  it('a typ that is not an access token, and a sender-constrained (cnf) JWT', async () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT']) {
      const ok = await as.mintToken({ audience: RESOURCE, subject: 'alice', header: { typ } });
      expect(decodeProtectedHeader(ok).typ).toBe(typ);
      expect((await verifier.verify(ok)).ok, typ).toBe(true);
    }
    for (const typ of ['id_token+jwt', 'JOSE', 'logout+jwt']) {
      const bad = await as.mintToken({ audience: RESOURCE, subject: 'alice', header: { typ } });
      expect(await refusal(verifier, bad), typ).toMatch(/^401 invalid_token: .*\(typ\)/);
    }
    const bound = await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { cnf: { jkt: 'abc' } } });
    expect(await refusal(verifier, bound)).toMatch(/^401 invalid_token: .*\(cnf\)/);
  });

  it('garbage, an empty and an oversized token', async () => {
    expect(await refusal(verifier, 'not-a-jwt')).toMatch(/^401 invalid_token: .*malformed/);
    expect(await refusal(verifier, '')).toMatch(/^401 invalid_token/);
    expect(await refusal(verifier, 'a'.repeat(20_000))).toMatch(/^401 invalid_token/);
  });

  it('a principal claim that is missing, not a string, too long or holds control characters', async () => {
    for (const sub of [['x'], 'x'.repeat(257), 'ali\u0000ce', 'bob\nadmin']) {
      const token = await as.mintToken({ audience: RESOURCE, claims: { sub } });
      expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*'sub' claim/);
    }
    const byEmail = createVerifier(settings(as, { oauthPrincipalClaim: 'email' }), silentLogger);
    const none = await as.mintToken({ audience: RESOURCE, subject: 'alice' });
    expect(await refusal(byEmail, none)).toMatch(/^401 invalid_token: .*'email' claim/);
    const withEmail = await as.mintToken({
      audience: RESOURCE,
      subject: 'alice',
      claims: { email: 'a@example.com', email_verified: true },
    });
    const result = await byEmail.verify(withEmail);
    expect(result.ok && result.grant.principal).toBe('a@example.com');
  });

  it('scopes: none, unrelated ones, and an scp array', async () => {
    const none = await verifier.verify(await as.mintToken({ audience: RESOURCE, subject: 'alice', scopes: [] }));
    expect(none.ok && [...none.grant.scopes]).toEqual([]);
    const unrelated = await verifier.verify(
      await as.mintToken({ audience: RESOURCE, subject: 'alice', scopes: ['other:read'] }),
    );
    expect(unrelated.ok && [...unrelated.grant.scopes]).toEqual(['other:read']);
    const scp = await verifier.verify(
      await as.mintToken({ audience: RESOURCE, subject: 'alice', scopes: [], claims: { scp: [SCOPE_READ] } }),
    );
    expect(scp.ok && [...scp.grant.scopes]).toEqual([SCOPE_READ]);
  });
});

describe('the issuer and its keys', () => {
  it('a rotated signing key is picked up without a restart', async () => {
    const rotating = await startAuthServer();
    try {
      const verifier = createVerifier(settings(rotating, { oauthJwksCooldownSeconds: 1 }), silentLogger);
      await verifier.ready();
      const before = await rotating.mintToken({ audience: RESOURCE, subject: 'alice' });
      expect((await verifier.verify(before)).ok).toBe(true);
      const { kid } = await rotating.rotateKey();
      await new Promise((r) => setTimeout(r, 1100)); // the cooldown since the fetch at start
      const after = await rotating.mintToken({ audience: RESOURCE, subject: 'alice' });
      expect(decodeProtectedHeader(after).kid).toBe(kid);
      expect(decodeProtectedHeader(before).kid).not.toBe(kid);
      const result = await verifier.verify(after);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      expect((await verifier.verify(before)).ok).toBe(true);
    } finally {
      await rotating.stop();
    }
  });

  it('a start against metadata that names another issuer fails, and so does plain http to a remote host', async () => {
    const alias = as.issuer.replace('127.0.0.1', 'localhost');
    await expect(createVerifier(settings(as, { oauthIssuer: alias }), silentLogger).ready()).rejects.toThrow(
      /names issuer "http:\/\/127\.0\.0\.1:\d+", not http:\/\/localhost/,
    );
    await expect(
      createVerifier(settings(as, { oauthIssuer: 'http://auth.example.com' }), silentLogger).ready(),
    ).rejects.toThrow(/must be https/);
  });

  it('an unreachable authorization server: requests get 503, not a pass, and the start fails', async () => {
    const gone = await startAuthServer();
    const issuer = gone.issuer;
    const token = await gone.mintToken({ audience: RESOURCE, subject: 'alice' });
    await gone.stop();
    const verifier = createVerifier(settings(gone, { oauthIssuer: issuer }), silentLogger, { timeoutMs: 5000 });
    await expect(verifier.ready()).rejects.toThrow(/unreachable/);
    expect(await refusal(verifier, token)).toMatch(/^503 \(no error code\)/);
  });
});

describe('introspection mode (RFC 7662) against the same kind of server, opaque tokens', () => {
  let opaque: TestAuthServer;
  let asked = 0;
  /** The real fetch, counting the introspection requests it carries. */
  const counting: typeof fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).endsWith('/token/introspection')) asked++;
    return fetch(input, init);
  };
  const introspecting = (over: Partial<VerifierConfig> = {}): TokenVerifier =>
    createVerifier(
      settings(opaque, {
        oauthIntrospection: opaque.introspectionEndpoint,
        oauthClientId: opaque.rsClientId,
        oauthClientSecret: opaque.rsClientSecret,
        ...over,
      }),
      silentLogger,
      { fetch: counting },
    );
  beforeAll(async () => {
    opaque = await startAuthServer({ tokenFormat: 'opaque' });
  });
  afterAll(async () => {
    await opaque?.stop();
  });

  it('a valid opaque token: principal and scopes from the answer, asked once while cached', async () => {
    const verifier = introspecting();
    await verifier.ready();
    const token = await opaque.mintToken({ audience: RESOURCE, subject: 'carol', scopes: [SCOPE_READ] });
    expect(token.split('.')).toHaveLength(1);
    asked = 0;
    const result = await verifier.verify(token);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.grant.principal).toBe('carol');
    expect([...result.grant.scopes]).toEqual([SCOPE_READ]);
    expect(result.grant.claims.iss).toBe(opaque.issuer);
    expect((await verifier.verify(token)).ok).toBe(true);
    expect(asked).toBe(1);
    const second = await opaque.mintToken({ audience: RESOURCE, subject: 'dave' });
    const r2 = await verifier.verify(second);
    expect(r2.ok && r2.grant.principal).toBe('dave');
    expect(asked).toBe(2);
  });

  it('an inactive token: revoked, unknown, or expired', async () => {
    const verifier = introspecting();
    const token = await opaque.mintToken({ audience: RESOURCE, subject: 'carol' });
    await opaque.revoke(token);
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*not active/);
    expect(await refusal(verifier, 'no-such-token-0123456789abcdef')).toMatch(/^401 invalid_token: .*not active/);
  });

  it('a token for another resource (wrong aud)', async () => {
    const verifier = introspecting();
    const token = await opaque.mintToken({ audience: `${PUBLIC_URL}/other`, subject: 'carol' });
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*not for this resource/);
  });

  it('concurrent checks of one token ask once; past the cap of concurrent introspections, 503 without an error code', async () => {
    const verifier = introspecting();
    await verifier.ready();
    const token = await opaque.mintToken({ audience: RESOURCE, subject: 'carol' });
    asked = 0;
    const same = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
    expect(same.every((r) => r.ok)).toBe(true);
    expect(asked).toBe(1);

    const many = await Promise.all(
      Array.from({ length: MAX_CONCURRENT + 8 }, (_, i) => opaque.mintToken({ audience: RESOURCE, subject: `u${i}` })),
    );
    asked = 0;
    const results = await Promise.all(many.map((t) => verifier.verify(t)));
    const busy = results.filter((r) => !r.ok && r.failure.status === 503);
    expect(results.filter((r) => r.ok)).toHaveLength(MAX_CONCURRENT);
    expect(busy).toHaveLength(8);
    for (const r of busy) if (!r.ok) expect(r.failure.error).toBeUndefined();
    expect(asked).toBe(MAX_CONCURRENT);
    // The refused ones were not cached as failures: asked again, they pass.
    for (const t of many.slice(MAX_CONCURRENT)) expect((await verifier.verify(t)).ok).toBe(true);
  });

  it('a cached grant never outlives the token exp', async () => {
    const verifier = introspecting({ oauthClockSkewSeconds: 0 });
    const token = await opaque.mintToken({
      audience: RESOURCE,
      subject: 'carol',
      claims: { exp: Math.floor(Date.now() / 1000) + 4 },
    });
    asked = 0;
    const first = await verifier.verify(token);
    expect(first.ok, JSON.stringify(first)).toBe(true);
    const exp = first.ok ? (first.grant.expiresAt as number) : 0;
    expect(exp - Date.now() / 1000).toBeLessThan(10); // well inside the cache's own 60 s
    await new Promise((r) => setTimeout(r, (exp + 1) * 1000 - Date.now()));
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token/);
    expect(asked).toBe(2);
  });

  it('an answer naming another issuer (an endpoint of another server) is refused', async () => {
    const verifier = introspecting({
      oauthIntrospection: as.introspectionEndpoint,
      oauthClientId: as.rsClientId,
      oauthClientSecret: as.rsClientSecret,
    });
    const token = await as.mintToken({ audience: RESOURCE, subject: 'carol', format: 'opaque' });
    expect(await as.introspect(token)).toMatchObject({ active: true, iss: as.issuer });
    expect(await refusal(verifier, token)).toMatch(/^401 invalid_token: .*another issuer/);
  });

  it('wrong client credentials at the introspection endpoint: 503, never a pass', async () => {
    const verifier = introspecting({ oauthClientSecret: 'not-the-secret' });
    const token = await opaque.mintToken({ audience: RESOURCE, subject: 'carol' });
    expect(await refusal(verifier, token)).toMatch(/^503 \(no error code\)/);
  });
});

describe("the SDK client's own OAuth flow, through the test helpers", () => {
  it('discovers the issuer from protected resource metadata, registers, authorizes as a subject, and the token passes', async () => {
    // Just enough of a resource server for the SDK to find the authorization server: its RFC 9728 document.
    const prm = createServer((req, res) => {
      const base = `http://127.0.0.1:${(prm.address() as AddressInfo).port}`;
      if (req.url === '/.well-known/oauth-protected-resource/mcp') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            resource: `${base}/mcp`,
            authorization_servers: [as.issuer],
            scopes_supported: [SCOPE_READ, SCOPE_GENERATE],
            bearer_methods_supported: ['header'],
          }),
        );
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => prm.listen(0, '127.0.0.1', r));
    try {
      const publicUrl = `http://127.0.0.1:${(prm.address() as AddressInfo).port}`;
      const client = testOAuthClient(as, { subject: 'erin' });
      expect(await auth(client, { serverUrl: `${publicUrl}/mcp` })).toBe('REDIRECT');
      expect(client.authorizations).toBe(1);
      expect(client.code).toBeTruthy();
      expect(await auth(client, { serverUrl: `${publicUrl}/mcp`, authorizationCode: client.code })).toBe('AUTHORIZED');
      const token = client.saved?.access_token as string;
      const verifier = createVerifier(settings(as, { publicUrl }), silentLogger);
      const result = await verifier.verify(token);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (!result.ok) return;
      expect(result.grant.principal).toBe('erin');
      expect([...result.grant.scopes].sort()).toEqual([SCOPE_GENERATE, SCOPE_READ]);
      expect(result.grant.claims.aud).toBe(`${publicUrl}/mcp`);
      // The same token is not for a server at another URL.
      const elsewhere = createVerifier(settings(as), silentLogger);
      expect(await refusal(elsewhere, token)).toMatch(/^401 invalid_token: .*not for this resource/);
    } finally {
      await new Promise((r) => prm.close(r));
    }
  });
});

describe('what the verifier tells the client and the log', () => {
  it('never the token, at debug level, whether it accepts, refuses or cannot reach the server', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', [], (l) => lines.push(l));
    const verifier = createVerifier(settings(as), logger);
    const tokens = [
      await as.mintToken({ audience: RESOURCE, subject: 'alice' }),
      await as.mintToken({ audience: `${PUBLIC_URL}/other`, subject: 'alice' }),
      await as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { exp: 1 } }),
      await hs256WithPublicKey(as, { audience: RESOURCE }),
    ];
    const descriptions: string[] = [];
    for (const t of tokens) {
      const r = await verifier.verify(t);
      if (!r.ok) descriptions.push(r.failure.description);
    }
    const down = await startAuthServer();
    const downToken = await down.mintToken({ audience: RESOURCE, subject: 'alice' });
    await down.stop();
    const unreachable = createVerifier(settings(down), logger, { timeoutMs: 5000 });
    const r = await unreachable.verify(downToken);
    if (!r.ok) descriptions.push(r.failure.description);
    expect(descriptions).toHaveLength(4);
    expect(lines.length).toBeGreaterThan(0);
    const text = [...lines, ...descriptions].join('\n');
    for (const t of [...tokens, downToken]) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(t.split('.')[2]);
    }
  });
});

describe('an issuer with a path', () => {
  it('its metadata is found under the path (OpenID Connect appended) and its tokens pass; the bare origin is not the issuer', async () => {
    const tenant = await startAuthServer({ path: '/tenant' });
    try {
      expect(tenant.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant$/);
      const verifier = createVerifier(settings(tenant), silentLogger);
      await verifier.ready();
      const token = await tenant.mintToken({ audience: RESOURCE, subject: 'frank' });
      const result = await verifier.verify(token);
      expect(result.ok && result.grant.principal, JSON.stringify(result)).toBe('frank');
      const origin = new URL(tenant.issuer).origin;
      await expect(createVerifier(settings(tenant, { oauthIssuer: origin }), silentLogger).ready()).rejects.toThrow(
        /no authorization server metadata/,
      );
    } finally {
      await tenant.stop();
    }
  });
});

describe('machine tokens: a client acting for itself', () => {
  it('dynamic registration refuses client_credentials; the pre-made client mints, and the policy must name it', async () => {
    const reg = await fetch(as.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://127.0.0.1:1/callback'],
        grant_types: ['client_credentials'],
        response_types: [],
        client_name: 'self-made machine',
      }),
    });
    expect(reg.status).toBe(400);
    expect(((await reg.json()) as { error: string }).error).toBe('invalid_client_metadata');

    const verifier = createVerifier(settings(as), silentLogger);
    await verifier.ready();
    const machine = await verifier.verify(await as.mintToken({ audience: RESOURCE }));
    expect(machine.ok, JSON.stringify(machine)).toBe(true);
    if (!machine.ok) return;
    expect(machine.grant.principal).toBe(as.clientId);
    expect(machine.grant.machine).toBe(true);
    const open = PolicyFileSchema.parse({ version: 1, defaults: {}, groups: { staff: {} } });
    const refused = { refused: expect.stringMatching(/client acting for itself.*"subjects"/) };
    expect(resolvePolicy(undefined, machine.grant)).toEqual(refused);
    expect(resolvePolicy(open, machine.grant)).toEqual(refused);
    const named = PolicyFileSchema.parse({ version: 1, defaults: { refuse: true }, subjects: { [as.clientId]: {} } });
    expect(resolvePolicy(named, machine.grant)).toMatchObject({ key: `subject:${as.clientId}` });

    const person = await verifier.verify(await as.mintToken({ audience: RESOURCE, subject: 'alice' }));
    expect(person.ok && person.grant.machine).toBe(false);
    if (person.ok) expect(resolvePolicy(open, person.grant)).toMatchObject({ key: 'defaults' });
    const azp = await verifier.verify(
      await as.mintToken({ audience: RESOURCE, subject: 'svc', claims: { azp: 'svc', client_id: 'svc' } }),
    );
    expect(azp.ok && azp.grant.machine).toBe(true);
  });
});

/** fetch to the real AS, counting JWKS requests; `jwksGone` sends them to a path the AS answers 404. */
function jwksWatch(): { fetch: typeof fetch; count: () => number; gone: (on: boolean) => void } {
  let n = 0;
  let gone = false;
  return {
    fetch: (input, init) => {
      const u = new URL(input instanceof Request ? input.url : String(input));
      if (u.pathname.endsWith('/jwks')) {
        n++;
        if (gone) u.pathname = `${u.pathname}-gone`;
      }
      return fetch(u, init);
    },
    count: () => n,
    gone: (on) => {
      gone = on;
    },
  };
}

describe('what a refusal carries (RFC 6750)', () => {
  it('a JWKS that fails mid-request (a non-200 answer) is 503 with no error code, not 401', async () => {
    const watch = jwksWatch();
    const verifier = createVerifier(settings(as, { oauthJwksCooldownSeconds: 1 }), silentLogger, {
      fetch: watch.fetch,
    });
    await verifier.ready();
    watch.gone(true);
    // An unknown kid makes the verifier reload the set, which now answers 404.
    const forged = await foreignKeyToken(as, { audience: RESOURCE, subject: 'alice' });
    await new Promise((r) => setTimeout(r, 1100));
    const result = await verifier.verify(forged);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.failure.status, result.failure.description).toBe(503);
      expect(result.failure.error).toBeUndefined();
    }
  });

  it('descriptions are printable ASCII without quote or backslash, even when they name a claim', async () => {
    const verifier = createVerifier(settings(as, { oauthPrincipalClaim: 'na"me\\\u00e9\n' }), silentLogger);
    const token = await as.mintToken({ audience: RESOURCE, subject: 'alice' });
    const result = await verifier.verify(token);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure.description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  });
});

describe('unknown kids: the JWKS is fetched at most once per cooldown', () => {
  it('a flood of forged-kid tokens costs one JWKS fetch; a rotated key is picked up after the cooldown', async () => {
    const rotating = await startAuthServer();
    try {
      const watch = jwksWatch();
      const verifier = createVerifier(settings(rotating, { oauthJwksCooldownSeconds: 2 }), silentLogger, {
        fetch: watch.fetch,
      });
      await verifier.ready();
      expect(watch.count()).toBe(1);
      await new Promise((r) => setTimeout(r, 2100));
      const forged = await Promise.all(
        Array.from({ length: 20 }, () => foreignKeyToken(rotating, { audience: RESOURCE, subject: 'alice' })),
      );
      const results = await Promise.all(forged.map((t) => refusal(verifier, t)));
      for (const r of results) expect(r).toMatch(/^401 invalid_token/);
      for (const t of forged) expect(await refusal(verifier, t)).toMatch(/^401 invalid_token/);
      expect(watch.count()).toBe(2);
      // A failed fetch counts as an attempt too: the flood does not retry a failing issuer either.
      await new Promise((r) => setTimeout(r, 2100));
      watch.gone(true);
      expect(await refusal(verifier, forged[0])).toMatch(/^503/);
      for (const t of forged) await verifier.verify(t);
      expect(watch.count()).toBe(3);
      watch.gone(false);
      const { kid } = await rotating.rotateKey();
      const fresh = await rotating.mintToken({ audience: RESOURCE, subject: 'alice' });
      expect(decodeProtectedHeader(fresh).kid).toBe(kid);
      await new Promise((r) => setTimeout(r, 2100));
      const result = await verifier.verify(fresh);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      expect(watch.count()).toBe(4);
    } finally {
      await rotating.stop();
    }
  });
});

describe('no network work for a request that cannot pass', () => {
  it('a failed start is remembered for a backoff; a token that is not b64token syntax is refused unsent', async () => {
    const gone = await startAuthServer();
    const token = await gone.mintToken({ audience: RESOURCE, subject: 'alice' });
    await gone.stop();
    let sent = 0;
    const counting: typeof fetch = (input, init) => {
      sent++;
      return fetch(input, init);
    };
    const verifier = createVerifier(settings(gone), silentLogger, { fetch: counting, timeoutMs: 5000 });
    expect(await refusal(verifier, token)).toMatch(/^503/);
    const first = sent;
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(await refusal(verifier, token)).toMatch(/^503/);
    expect(sent).toBe(first);

    const fresh = createVerifier(settings(as), silentLogger, { fetch: counting });
    sent = 0;
    for (const bad of ['a b', 'tok\u00e9n', 'a,b', 'a"b', '=abc', 'abc=def', 'a\nb'])
      expect(await refusal(fresh, bad), JSON.stringify(bad)).toMatch(/^401 invalid_token: .*b64token/);
    expect(sent).toBe(0);
  });
});

describe('a principal claim that is not stable', () => {
  it('warns at start for email and the like (not for sub or oid); email counts only when verified', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', [], (l) => lines.push(l));
    createVerifier(settings(as, { oauthPrincipalClaim: 'sub' }), logger);
    createVerifier(settings(as, { oauthPrincipalClaim: 'oid' }), logger);
    expect(lines.join('\n')).not.toMatch(/may not be stable/);
    const verifier = createVerifier(settings(as, { oauthPrincipalClaim: 'email' }), logger);
    createVerifier(settings(as, { oauthPrincipalClaim: 'preferred_username' }), logger);
    const warned = lines.filter((l) => /may not be stable/.test(l));
    expect(warned).toHaveLength(2);
    expect(warned[0]).toMatch(/"claim":"email".*email_verified/);
    const mint = (claims: Record<string, unknown>): Promise<string> =>
      as.mintToken({ audience: RESOURCE, subject: 'alice', claims: { email: 'a@example.com', ...claims } });
    expect(await refusal(verifier, await mint({}))).toMatch(/^401 invalid_token: .*email_verified/);
    expect(await refusal(verifier, await mint({ email_verified: 'true' }))).toMatch(/email_verified/);
    const ok = await verifier.verify(await mint({ email_verified: true }));
    expect(ok.ok && ok.grant.principal).toBe('a@example.com');
  });
});

describe('introspection mode logs', () => {
  it('at debug level, hold neither the tokens nor the client secret, whatever the answer', async () => {
    const opaque = await startAuthServer({ tokenFormat: 'opaque' });
    try {
      const lines: string[] = [];
      const logger = createLogger('debug', [], (l) => lines.push(l));
      const make = (secret: string): TokenVerifier =>
        createVerifier(
          settings(opaque, {
            oauthIntrospection: opaque.introspectionEndpoint,
            oauthClientId: opaque.rsClientId,
            oauthClientSecret: secret,
          }),
          logger,
        );
      const verifier = make(opaque.rsClientSecret);
      await verifier.ready();
      const good = await opaque.mintToken({ audience: RESOURCE, subject: 'alice' });
      const revoked = await opaque.mintToken({ audience: RESOURCE, subject: 'alice' });
      await opaque.revoke(revoked);
      const other = await opaque.mintToken({ audience: `${PUBLIC_URL}/other`, subject: 'alice' });
      expect((await verifier.verify(good)).ok).toBe(true);
      expect(await refusal(verifier, revoked)).toMatch(/^401/);
      expect(await refusal(verifier, other)).toMatch(/^401/);
      const wrongSecret = `${opaque.rsClientSecret}-wrong`;
      expect(await refusal(make(wrongSecret), good)).toMatch(/^503/);
      expect(lines.length).toBeGreaterThan(0);
      const text = lines.join('\n');
      for (const secret of [good, revoked, other, opaque.rsClientSecret, wrongSecret])
        expect(text).not.toContain(secret);
      for (const pw of [opaque.rsClientSecret, wrongSecret])
        expect(text).not.toContain(Buffer.from(`${opaque.rsClientId}:${pw}`).toString('base64'));
    } finally {
      await opaque.stop();
    }
  });
});
