/**
 * The issuer's key set, fetched by us (discovery.ts fetchJson: no redirects, a bounded body, a deadline)
 * and searched by jose (createLocalJWKSet: no key handling here). A token whose `kid` the set lacks
 * refetches it, but only when the cooldown has passed since the last fetch ATTEMPT, successful or not,
 * and one fetch at a time: a flood of tokens with made-up kids costs the issuer at most one request per
 * cooldown. The set is also refetched when older than MAX_AGE (retired keys drop out), under the same rule.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { DiscoveryError, fetchJson } from './discovery.js';

export const MAX_AGE_MS = 10 * 60 * 1000;

export interface RemoteKeys {
  getKey: JWTVerifyGetKey;
  /** Fetch now (at start): throws DiscoveryError, or jose's JWKSInvalid for a set that is not one. */
  reload(): Promise<void>;
}

export function remoteKeys(
  url: URL,
  o: { fetch: typeof fetch; timeoutMs: number; cooldownMs: number; now?: () => number },
): RemoteKeys {
  const now = o.now ?? Date.now;
  let local: JWTVerifyGetKey | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inflight: Promise<void> | undefined;

  const reload = (): Promise<void> => {
    inflight ??= (async () => {
      attemptedAt = now();
      try {
        const { status, json } = await fetchJson(o.fetch, url, { method: 'GET' }, o.timeoutMs);
        if (json === undefined) throw new DiscoveryError(`${url.origin}${url.pathname}: answered ${status}`);
        local = createLocalJWKSet(json as JSONWebKeySet);
        fetchedAt = now();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };
  const mayFetch = (): boolean => now() - attemptedAt >= o.cooldownMs;

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (inflight) await inflight.catch(() => undefined);
    if ((!local || now() - fetchedAt > MAX_AGE_MS) && mayFetch()) {
      try {
        await reload();
      } catch (err) {
        if (!local) throw err; // a stale set still serves while the issuer is down
      }
    }
    if (!local) throw new DiscoveryError('the issuer key set is not loaded');
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !mayFetch()) throw err;
      await reload();
      return local(header, token);
    }
  };
  return { getKey, reload };
}
