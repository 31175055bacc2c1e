/**
 * The authorization part of the configuration (HTTP only): `--auth tokens` (the tokens file, default) or
 * `--auth oauth` (an OAuth 2.1 resource server: access tokens from one authorization server, checked by
 * its JWKS or by RFC 7662 introspection), the policy file of OAuth principals, and per-request provider
 * keys (`--byok`). Read only by config.ts, which owns process.env.
 */
import { z } from 'zod';
import type { FieldTypes } from './config-hosting.js';

const httpsUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'expected an http(s) URL');

export function authFields(t: FieldTypes) {
  return {
    auth: z.enum(['tokens', 'oauth']).default('tokens'),
    /** The authorization server's issuer identifier (exactly as its metadata's `issuer`). */
    oauthIssuer: httpsUrl.optional(),
    /** RFC 7662 introspection endpoint: opaque tokens are checked there instead of by JWKS. */
    oauthIntrospection: httpsUrl.optional(),
    /** This server's client credentials at the introspection endpoint (the secret: environment only). */
    oauthClientId: z.string().min(1).optional(),
    oauthClientSecret: z.string().min(1).optional(),
    /** The claim that names the principal (default `sub`). */
    oauthPrincipalClaim: z.string().min(1).default('sub'),
    /** Per-principal settings of OAuth principals, by subject or by a group/role claim. */
    oauthPolicy: t.absolutePath.optional(),
    /** Clock skew allowed on exp / nbf / iat, seconds. */
    oauthClockSkewSeconds: z.coerce.number().int().min(0).max(300).default(30),
    /** Least time between two JWKS fetch attempts on an unknown `kid`, seconds (at least 1). */
    oauthJwksCooldownSeconds: z.coerce.number().int().min(1).max(3600).default(30),
    /** Per-request provider keys in X-Mediagen-Key-<Provider> headers (HTTP only; never stored). */
    byok: t.bool.default(false),
  };
}

export const AUTH_FLAGS = {
  auth: { type: 'string' },
  'oauth-issuer': { type: 'string' },
  'oauth-introspection': { type: 'string' },
  'oauth-client-id': { type: 'string' },
  'oauth-principal-claim': { type: 'string' },
  'oauth-policy': { type: 'string' },
  byok: { type: 'boolean' },
} as const;

type Flags = Partial<Record<keyof typeof AUTH_FLAGS, string | boolean>>;

export const AUTH_USAGE = `  --auth MODE              tokens (default: --tokens-file bearer tokens) | oauth (an OAuth 2.1 resource server
                           for claude.ai, ChatGPT and other OAuth clients; needs --oauth-issuer and
                           --public-url) (MEDIAGEN_AUTH)
  --oauth-issuer URL       the authorization server's issuer; its JWKS is found from its metadata
                           (MEDIAGEN_OAUTH_ISSUER)
  --oauth-introspection URL  check access tokens by RFC 7662 introspection instead of JWKS, as
                           --oauth-client-id with MEDIAGEN_OAUTH_CLIENT_SECRET (MEDIAGEN_OAUTH_INTROSPECTION)
  --oauth-client-id ID     this server's client id at the introspection endpoint (MEDIAGEN_OAUTH_CLIENT_ID)
  --oauth-principal-claim C  the token claim that names the principal (default sub; MEDIAGEN_OAUTH_PRINCIPAL_CLAIM)
  --oauth-policy FILE      caps, consent, toolsets and provider keys of OAuth principals by subject or group
                           claim, and the defaults for everyone else (MEDIAGEN_OAUTH_POLICY)
  --byok                   accept a principal's own provider key per request in X-Mediagen-Key-<Provider>
                           (used for that request only, never stored or logged; MEDIAGEN_BYOK)
`;

/** Flags beat env. */
export function authRaw(f: Flags, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const pick = <T>(...v: (T | undefined)[]): T | undefined => v.find((x) => x !== undefined);
  return {
    auth: pick(f.auth, env.MEDIAGEN_AUTH),
    oauthIssuer: pick(f['oauth-issuer'], env.MEDIAGEN_OAUTH_ISSUER),
    oauthIntrospection: pick(f['oauth-introspection'], env.MEDIAGEN_OAUTH_INTROSPECTION),
    oauthClientId: pick(f['oauth-client-id'], env.MEDIAGEN_OAUTH_CLIENT_ID),
    oauthClientSecret: env.MEDIAGEN_OAUTH_CLIENT_SECRET,
    oauthPrincipalClaim: pick(f['oauth-principal-claim'], env.MEDIAGEN_OAUTH_PRINCIPAL_CLAIM),
    oauthPolicy: pick(f['oauth-policy'], env.MEDIAGEN_OAUTH_POLICY),
    oauthClockSkewSeconds: env.MEDIAGEN_OAUTH_CLOCK_SKEW_SECONDS,
    oauthJwksCooldownSeconds: env.MEDIAGEN_OAUTH_JWKS_COOLDOWN_SECONDS,
    byok: pick<boolean | string>(f.byok, env.MEDIAGEN_BYOK),
  };
}
