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
export const NEGATIVE_ENTRIES = 500;
/** Introspections in flight at once; more get 503 (the authorization server is not ours to flood). */
export const MAX_CONCURRENT = 16;

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

  const negative = new Map<string, { result: AuthResult; until: number }>();
  const inflight = new Map<string, Promise<AuthResult>>();
  let running = 0;

  /** O(1): a Map iterates in insertion order, so the first key is the oldest entry. */
  const remember = (
    map: Map<string, { result: AuthResult; until: number }>,
    limit: number,
    key: string,
    result: AuthResult,
    seconds: number,
  ): AuthResult => {
    if (seconds <= 0) return result;
    map.delete(key);
    if (map.size >= limit) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, { result, until: now() + seconds * 1000 });
    return result;
  };

  const cached = (key: string): AuthResult | undefined => {
    const t = now();
    for (const map of [cache, negative]) {
      const hit = map.get(key);
      if (!hit) continue;
      const exp = hit.result.ok ? hit.result.grant.expiresAt : undefined;
      if (hit.until > t && (exp === undefined || exp * 1000 > t)) return hit.result;
      map.delete(key);
    }
    return undefined;
  };

  const check = async (key: string, token: string): Promise<AuthResult> => {
    running++;
    try {
      const t = now();
      const result = await ask(token);
      if (result.ok) {
        const left = (result.grant.expiresAt ?? 0) - t / 1000;
        return remember(cache, CACHE_ENTRIES, key, result, Math.min(CACHE_SECONDS, Math.floor(left)));
      }
      // Inactive and malformed answers are final for that token (their own, smaller cache, so a flood
      // of bad tokens cannot push good grants out); an outage is not cached.
      return result.failure.status === 401
        ? remember(negative, NEGATIVE_ENTRIES, key, result, INACTIVE_CACHE_SECONDS)
        : result;
    } finally {
      running--;
    }
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
      const hit = cached(key);
      if (hit) return hit;
      // One question per token at a time: concurrent requests with the same token share the answer.
      const pending = inflight.get(key);
      if (pending) return pending;
      if (running >= MAX_CONCURRENT) {
        logger.warn('oauth: too many introspections at once', { running });
        return unavailable('too many token checks at once, try again shortly');
      }
      const run = check(key, token).finally(() => inflight.delete(key));
      inflight.set(key, run);
      return run;
    },
  };
}
