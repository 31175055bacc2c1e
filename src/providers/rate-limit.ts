/**
 * A provider's rate limit: at most `requests` calls start in any window of `perSeconds`, shared by every
 * tool of that provider and, with a store, by every process and replica that uses the same key.
 *
 * With a store the window is counted there (Store.takeRateSlot) in the bucket `<provider>:<16 hex of the
 * key's SHA-256>` (never the key itself). One queue per limiter serves this process's waiters one at a
 * time, foreground before background; a background take also asks the store for less than the limit, so
 * `FOREGROUND_SHARE` of every window stays for foreground calls of all processes. This process's own
 * starts are kept too: when they alone fill the window, the wait is known without a store round trip.
 *
 * A store that fails or does not answer within `storeTimeoutMs` must not stop provider calls (a paid
 * create that cannot start would fail for a reason that is not the user's): this process then counts its
 * own starts only, with one warning per outage. At worst the provider answers 429, which is a refusal
 * with nothing charged (DESIGN §5.8).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export interface RateLimit {
  requests: number;
  perSeconds: number;
}

/** What a provider client needs of a limiter. */
export interface Limiter {
  /**
   * Resolves when a request may start, with the time its start was counted at; rejects with the signal's
   * reason if aborted first.
   */
  acquire(signal?: AbortSignal, background?: boolean): Promise<number>;
  /** Take a start only if one is free now at background priority (nobody queued here); never waits. */
  tryAcquire(): Promise<boolean>;
}

/** Share of each window a background take leaves to foreground calls (at least one start). */
export const FOREGROUND_SHARE = 0.25;

/** Starts a background take may count up to: the limit less the foreground's share, at least 1. */
export function backgroundLimit(requests: number): number {
  return Math.max(1, requests - Math.max(1, Math.floor(requests * FOREGROUND_SHARE)));
}

/** The store bucket of a provider used with a key: the key is hashed, never stored. */
export function rateBucket(provider: string, key: string | undefined): string {
  return `${provider}:${createHash('sha256')
    .update(key ?? '')
    .digest('hex')
    .slice(0, 16)}`;
}

export interface RateLimiterOptions {
  now?: () => number;
  /** Count the window in this store, in `bucket` (see rateBucket); without it, this process only. */
  store?: Pick<Store, 'takeRateSlot'>;
  bucket?: string;
  logger?: Logger;
  /** A store take slower than this counts as failed (default 5 s). */
  storeTimeoutMs?: number;
}

interface Waiter {
  background: boolean;
  resolve: (at: number) => void;
  reject: (reason: unknown) => void;
}

export class RateLimiter implements Limiter {
  private readonly fg: Waiter[] = [];
  private readonly bg: Waiter[] = [];
  /** This process's starts in the window, oldest first. */
  private readonly starts: number[] = [];
  private pumping = false;
  private current?: Waiter;
  /** Ends the pump's sleep early (a foreground waiter came while a background one was served, or an abort). */
  private wake?: () => void;
  private degraded = false;
  private readonly now: () => number;
  private readonly windowMs: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly opts: RateLimiterOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.windowMs = Math.max(1, Math.ceil(limit.perSeconds * 1000));
  }

  acquire(signal?: AbortSignal, background = false): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const queue = background ? this.bg : this.fg;
      const onAbort = (): void => {
        const i = queue.indexOf(w);
        if (i >= 0) queue.splice(i, 1);
        reject(signal?.reason);
        if (this.current === w) this.wake?.();
      };
      const w: Waiter = {
        background,
        resolve: (at) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(at);
        },
        reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(w);
      if (!background && this.current?.background) this.wake?.();
      void this.pump();
    });
  }

  async tryAcquire(): Promise<boolean> {
    if (this.fg.length || this.bg.length) return false;
    return (await this.take(true)).wait === 0;
  }

  /** Serves the queues one waiter at a time until both are empty. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const w = this.fg[0] ?? this.bg[0];
        if (!w) return;
        this.current = w;
        const { wait, at } = await this.take(w.background);
        const queue = w.background ? this.bg : this.fg;
        if (queue[0] !== w) continue; // aborted meanwhile: its start (if taken) stays counted, unused
        if (wait === 0) {
          queue.shift();
          w.resolve(at);
        } else if (!(w.background && this.fg.length)) {
          await this.pause(wait); // a foreground waiter that came during the take is served first instead
        }
      }
    } finally {
      this.current = undefined;
      this.pumping = false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** One take: wait 0 when a start was counted (at `at`), else the ms to wait before asking again. */
  private async take(background: boolean): Promise<{ wait: number; at: number }> {
    const limit = background ? backgroundLimit(this.limit.requests) : this.limit.requests;
    const t = this.now();
    while (this.starts.length && this.starts[0] <= t - this.windowMs) this.starts.shift();
    // This process's own starts fill the window: so do everyone's; no round trip needed.
    if (this.starts.length >= limit)
      return { wait: Math.max(1, this.starts[this.starts.length - limit] + this.windowMs - t), at: t };
    const store = this.opts.store;
    if (store && this.opts.bucket) {
      try {
        const wait = await withTimeout(
          store.takeRateSlot({ bucket: this.opts.bucket, limit, windowMs: this.windowMs, now: t }),
          this.opts.storeTimeoutMs ?? 5_000,
        );
        if (this.degraded) {
          this.degraded = false;
          this.opts.logger?.info('rate limit: the store answers again; counting across processes', {
            bucket: this.opts.bucket,
          });
        }
        if (wait === 0) this.starts.push(t);
        return { wait: Math.max(0, wait), at: t };
      } catch (err) {
        if (!this.degraded) {
          this.degraded = true;
          this.opts.logger?.warn(
            'rate limit: the store did not count this start; counting this process only until it answers',
            { bucket: this.opts.bucket, error: err instanceof Error ? err.message : String(err) },
          );
        }
      }
    }
    this.starts.push(t);
    return { wait: 0, at: t };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** One limiter per bucket and limit, shared by every client of a process (every principal's app). */
export class RateLimits {
  private readonly byBucket = new Map<string, RateLimiter>();

  constructor(private readonly opts: Omit<RateLimiterOptions, 'bucket'> = {}) {}

  for(provider: string, key: string | undefined, limit: RateLimit): RateLimiter {
    const bucket = rateBucket(provider, key);
    const id = `${bucket}:${limit.requests}/${limit.perSeconds}`;
    let l = this.byBucket.get(id);
    if (!l) this.byBucket.set(id, (l = new RateLimiter(limit, { ...this.opts, bucket })));
    return l;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
