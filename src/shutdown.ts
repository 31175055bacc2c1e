/**
 * The time limits of a stop after its drain: recording what is left uncertain and closing connections and
 * the store are each bounded, so nothing can hold a stopping process (used by app.ts, hosting.ts, cli.ts).
 */

/** After the drain, shutdown gives recording the unanswered paid requests and closing this long each. */
export const SETTLE_MS = 5_000;
export const CLOSE_MS = 3_000;
/** Everything after the drain (settle, close, and a margin): a stop signal's process exits by drain + this. */
export const AFTER_DRAIN_MS = SETTLE_MS + CLOSE_MS + 2_000;

export const LATE = Symbol('late');

/** `p`'s value, its error, or LATE after `ms` (the timer never keeps the process alive). */
export async function bounded<T>(p: Promise<T>, ms: number): Promise<T | Error | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((r) => {
    timer = setTimeout(() => r(LATE), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))), late]);
  } finally {
    clearTimeout(timer);
  }
}
