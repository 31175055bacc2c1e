/**
 * Per-request provider keys (`--byok`): a principal's own key for a provider, sent in the request's
 * `X-Mediagen-Key-<Provider>` header, lives only for the async lifetime of that one request (an
 * AsyncLocalStorage scope opened around the tool call). The provider client sends it instead of the
 * server's key, every redactor (the logger's, the provider client's) scrubs it while the scope lives, and
 * nothing else can see it: no other request, no background worker poll, no store row, no log line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';

/** The header prefix; the provider name follows as in the catalogue, matched case-insensitively. */
export const KEY_HEADER_PREFIX = 'x-mediagen-key-';
/** Shortest key value accepted: anything shorter is no provider's key, and would redact too much. */
export const MIN_KEY_LENGTH = 8;
/** Longest key value accepted (a JWT-sized key fits). */
export const MAX_KEY_LENGTH = 4096;

/** Provider name (lower case) -> key. */
export type RequestKeys = ReadonlyMap<string, string>;

const scope = new AsyncLocalStorage<RequestKeys>();

/**
 * The keys a request's headers carry, by provider (lower case). Throws a RangeError naming the header
 * (never its value) for an empty, over-long, repeated or non-printable value.
 */
export function keysFromHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [name, raw] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(KEY_HEADER_PREFIX)) continue;
    const provider = lower.slice(KEY_HEADER_PREFIX.length);
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(provider)) throw new RangeError(`${name}: not a provider name`);
    if (Array.isArray(raw) || raw === undefined) throw new RangeError(`${name}: sent more than once`);
    const value = raw.trim();
    if (
      value.length < MIN_KEY_LENGTH ||
      value.length > MAX_KEY_LENGTH ||
      !/^[\x21-\x7e]+$/.test(value) ||
      value.includes(',')
    )
      throw new RangeError(`${name}: expected one key of ${MIN_KEY_LENGTH}-${MAX_KEY_LENGTH} printable characters`);
    keys.set(provider, value);
  }
  return keys;
}

/** True when the headers carry any X-Mediagen-Key-* header (the HTTP layer refuses them without --byok). */
export function hasKeyHeaders(headers: IncomingHttpHeaders): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase().startsWith(KEY_HEADER_PREFIX));
}

/**
 * Run `fn` with these keys as the request's own. The scope is opened even when there are none, so `fn`
 * never inherits an enclosing request's keys.
 */
export function withRequestKeys<T>(keys: RequestKeys, fn: () => T): T {
  return scope.run(keys, fn);
}

/** The current request's own key for `provider`, if it sent one. */
export function requestKey(provider: string): string | undefined {
  return scope.getStore()?.get(provider.toLowerCase());
}

/** Every key of the current request (for the redactors), none outside a request's scope. */
export function requestSecrets(): string[] {
  const keys = scope.getStore();
  return keys ? [...keys.values()] : [];
}
