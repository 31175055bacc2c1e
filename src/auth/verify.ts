/**
 * The OAuth resource server's token check (`--auth oauth`): a bearer token becomes an AuthGrant or an
 * AuthFailure. JWT access tokens are verified with jose against the issuer's JWKS (found from its
 * metadata, jwks.ts; an unknown `kid` refetches the set, at most once per cooldown since the last attempt,
 * so a rotated key is picked up without a restart); with --oauth-introspection, tokens are asked about at the RFC 7662 endpoint
 * (introspect.ts). Either way `iss`, `exp` / `nbf` (with the configured skew) and `aud` are checked: the
 * audience must contain this server's resource, `<public-url>/mcp` (RFC 8707). No crypto here: jose does it.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config.js';
import { StartupError } from '../errors.js';
import type { Logger } from '../log.js';
import { grantOf, invalid, STABLE_PRINCIPAL_CLAIMS, unavailable } from './claims.js';
import { checkAuthUrl, discoverIssuer, DiscoveryError, type IssuerMetadata } from './discovery.js';
import { createIntrospector } from './introspect.js';
import { remoteKeys, type RemoteKeys } from './jwks.js';
import type { AuthResult, TokenVerifier } from './types.js';

export type VerifierConfig = Pick<
  Config,
  | 'oauthIssuer'
  | 'oauthIntrospection'
  | 'oauthClientId'
  | 'oauthClientSecret'
  | 'oauthPrincipalClaim'
  | 'oauthClockSkewSeconds'
  | 'oauthJwksCooldownSeconds'
  | 'publicUrl'
>;

export interface VerifierDeps {
  fetch?: typeof fetch;
  /** Deadline of one request to the authorization server (metadata, JWKS, introspection). */
  timeoutMs?: number;
}

/** Asymmetric JWS algorithms only: never `none`, never HS* (a public key must not become an HMAC secret). */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** RFC 9068 §2.1 `typ`, or a plain JWT; an ID token or anything else typed is not an access token. */
const ACCESS_TOKEN_TYP = new Set(['at+jwt', 'application/at+jwt', 'jwt']);

/** RFC 6750 §2.1 b64token: checked before any network work. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** After a failed start, requests wait this long before the next try, doubling up to the max. */
export const BACKOFF_FIRST_MS = 2000;
export const BACKOFF_MAX_MS = 60_000;

/** Longer than any access token we expect (a large JWT is a few KiB): refused before parsing. */
const MAX_TOKEN = 16 * 1024;

/**
 * The resource this server is: `<public-url>/mcp`, the audience every token must name. Built with URL
 * (scheme and host lower-cased, as clients compare them); a public URL with a query, a fragment or
 * credentials is refused at start, since no token's audience could name it reliably.
 */
export function resourceOf(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new StartupError(`--public-url is not a URL: ${publicUrl}`);
  }
  if (publicUrl.includes('?') || publicUrl.includes('#'))
    throw new StartupError('--public-url must not carry a query or a fragment under --auth oauth');
  if (url.username || url.password) throw new StartupError('--public-url must not carry credentials');
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/mcp`;
  return url.href;
}

export function createVerifier(config: VerifierConfig, logger: Logger, deps: VerifierDeps = {}): TokenVerifier {
  const fetchFn = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const issuer = config.oauthIssuer;
  if (!issuer) throw new StartupError('--auth oauth needs --oauth-issuer (MEDIAGEN_OAUTH_ISSUER)');
  if (!config.publicUrl) throw new StartupError('--auth oauth needs --public-url (MEDIAGEN_PUBLIC_URL)');
  const resource = resourceOf(config.publicUrl);
  const skew = config.oauthClockSkewSeconds;
  const principalClaim = config.oauthPrincipalClaim;
  if (!STABLE_PRINCIPAL_CLAIMS.has(principalClaim))
    logger.warn('oauth: the principal claim may not be stable for one account', {
      claim: principalClaim,
      why: 'a claim the user or an admin can change (email, preferred_username, name) lets one account take over another principal; prefer sub or oid',
      ...(principalClaim === 'email' ? { email: 'only tokens with email_verified true are accepted' } : {}),
    });

  const introspector = config.oauthIntrospection
    ? createIntrospector(
        {
          endpoint: config.oauthIntrospection,
          clientId: config.oauthClientId,
          clientSecret: config.oauthClientSecret,
          issuer,
          resource,
          skew,
          principalClaim,
        },
        logger,
        { fetch: fetchFn, timeoutMs },
      )
    : undefined;

  let jwks: RemoteKeys | undefined;
  let started: Promise<IssuerMetadata> | undefined;

  const start = (): Promise<IssuerMetadata> => {
    started ??= (async () => {
      const meta = await discoverIssuer(issuer, fetchFn, timeoutMs);
      if (introspector) {
        checkAuthUrl(config.oauthIntrospection as string, '--oauth-introspection', new URL(issuer));
      } else {
        if (!meta.jwks_uri) throw new DiscoveryError(`the metadata of ${issuer} has no jwks_uri`);
        jwks = remoteKeys(new URL(meta.jwks_uri), {
          fetch: fetchFn,
          timeoutMs,
          cooldownMs: Math.max(1, config.oauthJwksCooldownSeconds) * 1000,
        });
        await jwks.reload();
      }
      failures = 0;
      logger.info('oauth: authorization server ready', {
        issuer,
        resource,
        mode: introspector ? 'introspection' : 'jwks',
      });
      return meta;
    })().catch((err: unknown) => {
      // The next request tries again, but only after a backoff that grows with each failure.
      failures++;
      retryAt = Date.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failures - 1));
      failedWith = err;
      started = undefined;
      throw err;
    });
    return started;
  };
  let failures = 0;
  let retryAt = 0;
  let failedWith: unknown;
  /** For a request: the start, or the last failure again while its backoff lasts (no network work). */
  const startOrBackoff = (): Promise<IssuerMetadata> =>
    !started && failures > 0 && Date.now() < retryAt ? Promise.reject(failedWith) : start();

  const verifyJwt = async (token: string): Promise<AuthResult> => {
    const keys = jwks;
    if (!keys) return unavailable('the authorization server is not reachable yet');
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, keys.getKey, {
        issuer,
        audience: resource,
        clockTolerance: skew,
        algorithms: JWT_ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      return refusal(err, logger);
    }
    if (typ !== undefined && !ACCESS_TOKEN_TYP.has(typ.toLowerCase()))
      return invalid('the token is not an access token (typ)');
    return grantOf(payload as Record<string, unknown>, principalClaim);
  };

  return {
    async ready() {
      try {
        await start();
      } catch (err) {
        throw new StartupError(`--auth oauth: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN)
        return invalid('the access token is empty or too long');
      if (!B64TOKEN.test(token)) return invalid('the access token is not RFC 6750 b64token syntax');
      try {
        await startOrBackoff();
      } catch (err) {
        logger.warn('oauth: the authorization server is unavailable', {
          reason: err instanceof Error ? err.message : String(err),
        });
        return unavailable('the authorization server is unavailable');
      }
      return introspector ? introspector.introspect(token) : verifyJwt(token);
    },
  };
}

/** jose's reasons, in words for the client; no claim value beyond iss / aud, never the token. */
function refusal(err: unknown, logger: Logger): AuthResult {
  if (err instanceof errors.JWTExpired) {
    const refused = invalid('the access token has expired');
    refused.failure.expired = true; // signed by the issuer, only late: not a guess at a token
    return refused;
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return invalid('the access token is not for this resource (aud)');
    if (err.claim === 'iss') return invalid('the access token is from another issuer (iss)');
    if (err.claim === 'nbf') return invalid('the access token is not valid yet (nbf)');
    return invalid(`the access token's ${err.claim} claim is missing or invalid`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return invalid('the access token is signed with an algorithm not allowed');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return invalid('the access token is signed by a key the issuer does not publish');
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('the access token signature is invalid');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    logger.warn('oauth: the issuer JWKS could not be fetched', { reason: err.code });
    return unavailable('the authorization server keys are unavailable');
  }
  // A plain JOSEError (ERR_JOSE_GENERIC) is jose's JWKS loader failing mid-request (a non-200 answer):
  // the keys are unavailable, not the token bad.
  if (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC') {
    logger.warn('oauth: the issuer JWKS could not be fetched', { reason: err.code });
    return unavailable('the authorization server keys are unavailable');
  }
  if (err instanceof errors.JOSEError) return invalid(`the access token is malformed (${err.code})`);
  // fetch failures of the JWKS reload surface as plain errors.
  logger.warn('oauth: token check failed', { reason: err instanceof Error ? err.name : 'unknown' });
  return unavailable('the authorization server keys are unavailable');
}
