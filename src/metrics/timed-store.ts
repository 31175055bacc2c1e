/**
 * Store latency: the store with every method call timed into the metrics (one histogram observation per
 * call, by method name and ok/error). The methods and their answers are the store's own, unchanged.
 */
import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';

/** `store` itself without metrics; else a view of it whose method calls are timed. */
export function timedStore(store: Store, metrics: Metrics | undefined): Store {
  if (!metrics) return store;
  metrics.watch(store);
  // Keyed by the method itself (not its name): a property that changes is timed as what it is now.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      const method = value as (...args: unknown[]) => unknown;
      let fn = wrapped.get(method);
      if (!fn) {
        fn = (...args: unknown[]): unknown => {
          const start = process.hrtime.bigint();
          const done = (ok: boolean): void =>
            metrics.storeCall(prop, Number(process.hrtime.bigint() - start) / 1e9, ok);
          let out: unknown;
          try {
            out = method.apply(target, args);
          } catch (err) {
            done(false);
            throw err;
          }
          if (out instanceof Promise)
            return out.then(
              (v: unknown) => {
                done(true);
                return v;
              },
              (err: unknown) => {
                done(false);
                throw err;
              },
            );
          done(true);
          return out;
        };
        wrapped.set(method, fn);
      }
      return fn;
    },
  });
}
