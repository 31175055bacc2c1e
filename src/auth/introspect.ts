/**
 * RFC 7662 token introspection (`--oauth-introspection`): the authorization server says whether a token
 * is active. This server authenticates as its own client (client_secret_basic, RFC 6749 §2.3.1) and
 * checks the answer itself: `active` true, `iss` (when given) the configured issuer, `token_type` (when
 * given) an access token, `aud` containing the resource, `exp` present and not passed, `nbf` not ahead,
 * no `cnf` (claims.ts). `iss` may be absent (RFC 7662 makes it optional): the endpoint is the issuer's. Answers are cached briefly, keyed by the
 * token's SHA-256 (the token itself is never kept), and a cached grant never outlives the token's `exp`.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import { audienceHas, grantOf, invalid, unavailable } from './claims.js';
import { checkAuthUrl, DiscoveryError, fetchJson } from './discovery.js';
import type { AuthResult } from './types.js';

export interface IntrospectionSettings {
  endpoint: string;
  clientId?: string;
  clientSecret?: string;
  issuer: string;
  resource: string;
  skew: number;
  principalClaim: string;
}

/** How long an answer is reused at most (a revoked token stops working within this), and how many. */
export const CACHE_SECONDS = 60;
export const INACTIVE_CACHE_SECONDS = 10;
export const CACHE_ENTRIES = 2000;

const ACCESS_TYPES = new Set(['bearer', 'access_token']);

const formEncode = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');

export function createIntrospector(
  s: IntrospectionSettings,
  logger: Logger,
  deps: { fetch: typeof fetch; timeoutMs: number; now?: () => number },
): { introspect(token: string): Promise<AuthResult> } {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { result: AuthResult; until: number }>();
  const authorization =
    s.clientId !== undefined && s.clientSecret !== undefined
      ? `Basic ${Buffer.from(`${formEncode(s.clientId)}:${formEncode(s.clientSecret)}`).toString('base64')}`
      : undefined;

  const remember = (key: string, result: AuthResult, seconds: number): AuthResult => {
    if (seconds <= 0) return result;
    if (cache.size >= CACHE_ENTRIES) {
      const t = now();
      for (const [k, v] of cache) if (v.until <= t) cache.delete(k);
      // Still full: drop the oldest entries (a Map iterates in insertion order).
      for (const k of cache.keys()) {
        if (cache.size < CACHE_ENTRIES) break;
        cache.delete(k);
      }
    }
    cache.set(key, { result, until: now() + seconds * 1000 });
    return result;
  };

  const ask = async (token: string): Promise<AuthResult> => {
    if (!authorization) return unavailable('introspection needs --oauth-client-id and MEDIAGEN_OAUTH_CLIENT_SECRET');
    let answer: { status: number; json: unknown };
    try {
      answer = await fetchJson(
        deps.fetch,
        checkAuthUrl(s.endpoint, '--oauth-introspection', new URL(s.issuer)),
        {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        },
        deps.timeoutMs,
      );
    } catch (err) {
      logger.warn('oauth: introspection failed', { reason: err instanceof DiscoveryError ? err.message : 'error' });
      return unavailable('the authorization server is unavailable');
    }
    const body = answer.json;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      // 401/403 here means our own client credentials are wrong: the operator's problem, not the client's.
      logger.error('oauth: the introspection endpoint refused or gave no JSON object', { status: answer.status });
      return unavailable('the authorization server is unavailable');
    }
    const claims = body as Record<string, unknown>;
    if (claims.active !== true) return invalid('the access token is not active');
    if (claims.iss !== undefined && claims.iss !== s.issuer)
      return invalid('the access token is from another issuer (iss)');
    // RFC 7662 §2.2 token_type: only an access token is one (names differ: "Bearer", "access_token").
    if (
      claims.token_type !== undefined &&
      (typeof claims.token_type !== 'string' || !ACCESS_TYPES.has(claims.token_type.toLowerCase()))
    )
      return invalid('the token is not an access token (token_type)');
    if (!audienceHas(claims.aud, s.resource)) return invalid('the access token is not for this resource (aud)');
    const t = now() / 1000;
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp))
      return invalid('the introspection answer has no exp');
    if (claims.exp <= t - s.skew) return invalid('the access token has expired');
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > t + s.skew))
      return invalid('the access token is not valid yet (nbf)');
    return grantOf(claims, s.principalClaim);
  };

  return {
    async introspect(token) {
      const key = createHash('sha256').update(token).digest('hex');
      const hit = cache.get(key);
      const t = now();
      if (hit && hit.until > t) {
        const exp = hit.result.ok ? hit.result.grant.expiresAt : undefined;
        if (exp === undefined || exp * 1000 > t) return hit.result;
      }
      if (hit) cache.delete(key);
      const result = await ask(token);
      if (result.ok) {
        const left = (result.grant.expiresAt ?? 0) - t / 1000;
        return remember(key, result, Math.min(CACHE_SECONDS, Math.floor(left)));
      }
      // Inactive and malformed answers are final for that token; an outage is not cached.
      return result.failure.status === 401 ? remember(key, result, INACTIVE_CACHE_SECONDS) : result;
    },
  };
}
