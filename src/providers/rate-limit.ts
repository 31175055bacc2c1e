/**
 * Per-provider sliding-window limiter shared by every tool of that provider: at most `requests` calls
 * start in any window of `perSeconds`. Waiters are served in order; an aborted wait leaves the queue.
 */
export interface RateLimit {
  requests: number;
  perSeconds: number;
}

export class RateLimiter {
  private readonly starts: number[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when a request may start; rejects with the signal's reason if aborted first. */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.waitForSlot(signal));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async waitForSlot(signal?: AbortSignal): Promise<void> {
    const windowMs = this.limit.perSeconds * 1000;
    for (;;) {
      signal?.throwIfAborted();
      const t = this.now();
      while (this.starts.length && this.starts[0] <= t - windowMs) this.starts.shift();
      if (this.starts.length < this.limit.requests) {
        this.starts.push(t);
        return;
      }
      await sleep(this.starts[0] + windowMs - t, signal);
    }
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
