/**
 * The OAuth resource server's token check against a real authorization server (oidc-provider in its own
 * process, test/helpers/oidc.ts): what it accepts, what it refuses and why, key rotation, introspection.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { createVerifier, type VerifierConfig } from '../../src/auth/verify.js';
import { SCOPE_GENERATE, SCOPE_READ } from '../../src/auth/types.js';
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
