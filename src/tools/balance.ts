/**
 * The balance a quote and the consent form show: read at most once per provider every `ttlMs`, one read
 * for any number of concurrent callers, and never waited for behind the rate limit (the read is skipped
 * when the limit is busy, so a free quote does not spend the starts paid creates need). Observed prices
 * read the balance fresh through their own path (guard/observed.ts), never through this cache.
 */
import { MediagenError } from '../errors.js';

export type BalanceRead = (provider: string, signal?: AbortSignal) => Promise<string | undefined>;

/** How long a balance read is shown again (a balance moves only with spend, which the caps track exactly). */
export const BALANCE_TTL_MS = 15_000;

/** What a quote says when the balance was skipped. */
export const BALANCE_BUSY = 'balance not read: the rate limit is busy';

/** True for the error of a balance read skipped because the rate limit had no free start. */
export function isBusy(err: unknown): boolean {
  return err instanceof MediagenError && err.code === 'RATE_LIMITED' && err.details.sent === false;
}

interface Entry {
  value: string | undefined;
  at: number;
}

/**
 * `read` is called without the caller's signal (one caller giving up must not fail the others); each
 * caller stops waiting on its own signal. Failures are not kept: the next caller reads again.
 */
export function cachedBalance(read: BalanceRead, opts: { ttlMs?: number; now: () => number }): BalanceRead {
  const ttl = opts.ttlMs ?? BALANCE_TTL_MS;
  const kept = new Map<string, Entry>();
  const flights = new Map<string, Promise<string | undefined>>();
  return (provider, signal) => {
    signal?.throwIfAborted();
    const e = kept.get(provider);
    if (e && opts.now() - e.at < ttl) return Promise.resolve(e.value);
    let flight = flights.get(provider);
    if (!flight) {
      flight = read(provider)
        .then((value) => {
          kept.set(provider, { value, at: opts.now() });
          return value;
        })
        .finally(() => flights.delete(provider));
      flights.set(provider, flight);
    }
    return signal ? untilAborted(flight, signal) : flight;
  };
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
