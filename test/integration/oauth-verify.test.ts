/**
 * The OAuth resource server's token check against a real authorization server (oidc-provider in its own
 * process, test/helpers/oidc.ts): what it accepts, what it refuses and why, key rotation, introspection.
 */
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
