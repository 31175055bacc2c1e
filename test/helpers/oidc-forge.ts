/**
 * Access tokens the test authorization server would never issue, built as test data with jose: unsigned
 * (`alg: none`), HMAC-signed with the server's public key as the secret (the algorithm-confusion attack),
 * and signed by a key the server's JWKS does not hold. Their claims are otherwise perfect, so a verifier
 * that accepts one has skipped exactly the check the test is about.
 */
import { exportSPKI, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import type { TestAuthServer } from './oidc.js';

export interface ForgeClaims {
  audience: string;
  subject?: string;
  scopes?: string[];
  /** Seconds from now (default 600). */
  expiresIn?: number;
}

/** A claim set the server could have signed: iss, aud, sub, scope, iat, exp. */
export function validClaims(as: TestAuthServer, c: ForgeClaims): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: as.issuer,
    aud: c.audience,
    sub: c.subject ?? 'mallory',
    scope: (c.scopes ?? ['mediagen:read', 'mediagen:generate']).join(' '),
    client_id: as.clientId,
    jti: `forged-${now}-${Math.random().toString(36).slice(2)}`,
    iat: now,
    exp: now + (c.expiresIn ?? 600),
  };
}

/** The server's published signing keys. */
export async function publishedKeys(as: TestAuthServer): Promise<JWK[]> {
  const res = await fetch(as.jwksUri);
  return ((await res.json()) as { keys: JWK[] }).keys;
}

/** `alg: none`, no signature. */
export function unsignedToken(as: TestAuthServer, c: ForgeClaims): string {
  return new UnsecuredJWT(validClaims(as, c)).encode();
}

/**
 * HS256 with the server's own public RSA key (its SPKI PEM, as a naive verifier would hold it) as the HMAC
 * secret, and that key's kid in the header.
 */
export async function hs256WithPublicKey(as: TestAuthServer, c: ForgeClaims): Promise<string> {
  const [jwk] = await publishedKeys(as);
  const publicKey = await importJWK({ ...jwk, alg: 'RS256' }, 'RS256', { extractable: true });
  const pem = await exportSPKI(publicKey as CryptoKey);
  return new SignJWT(validClaims(as, c))
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })
    .sign(new TextEncoder().encode(pem));
}

/**
 * RS256 by a fresh key the JWKS does not hold: with a kid of its own (`kid: 'own'`), or with the kid of
 * the server's published key (`kid: 'published'`), so only the signature check can refuse it.
 */
export async function foreignKeyToken(
  as: TestAuthServer,
  c: ForgeClaims,
  o: { kid: 'own' | 'published' } = { kid: 'own' },
): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  const kid = o.kid === 'own' ? 'forged-key-1' : (await publishedKeys(as))[0].kid;
  return new SignJWT(validClaims(as, c)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(privateKey);
}
