/**
 * A store outage, told honestly and logged quietly. What counts as one (the store cannot be reached or
 * used right now, whatever the call; not a wrong query):
 * - PostgreSQL: the connection failed or was cut (ECONN*, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, ENETUNREACH,
 *   EPIPE, ETIMEDOUT, SQLSTATE 57P0x "shutting down", class 08 "connection exception", a pool timeout, a
 *   client "not queryable" after a connection error);
 * - SQLite: the file is locked beyond busy_timeout (SQLITE_BUSY / SQLITE_LOCKED), cannot be opened
 *   (SQLITE_CANTOPEN), fails to read or write (SQLITE_IOERR*), is read-only (SQLITE_READONLY) or the disk
 *   is full (SQLITE_FULL). A constraint, a bad statement or a corrupt file is not an outage.
 * Every such failure becomes `STORE_UNAVAILABLE`. An outage is logged once when it starts (error) and
 * once when it ends (info "store reachable again after N s"), not once per call; on PostgreSQL it starts
 * only when a probe right after the failure fails too (a routine cut of one connection is no outage).
 */
import { MediagenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from './store.js';

/** A lost or unreachable PostgreSQL connection (by the driver's error code or, without one, its text). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string')
    return /Connection terminated|connect ECONN|timeout exceeded|connection error and is not queryable/i.test(
      String(err),
    );
  return /^(ECONN|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ETIMEDOUT|57P0|08)/.test(code);
}

/** SQLite primary result codes of an outage: BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14. */
const SQLITE_OUTAGE = new Set([5, 6, 8, 10, 13, 14]);

/** Busy, locked, unopenable, failing I/O, read-only or full, from either SQLite driver. */
export function isSqliteOutage(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown } | null;
  if (typeof e?.code === 'string' && /^SQLITE_(BUSY|LOCKED|READONLY|IOERR|FULL|CANTOPEN)/.test(e.code)) return true;
  return typeof e?.errcode === 'number' && SQLITE_OUTAGE.has(e.errcode & 0xff);
}

export function isStoreUnavailable(err: unknown): err is MediagenError {
  return err instanceof MediagenError && err.code === 'STORE_UNAVAILABLE';
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').slice(0, 300);
}

export function storeName(kind: Store['kind']): string {
  return kind === 'postgres' ? 'the shared store (PostgreSQL)' : 'the store (SQLite)';
}

/** `err` as STORE_UNAVAILABLE when it is an outage of a store of this kind (the cause too); else undefined. */
export function asOutage(err: unknown, kind: Store['kind']): MediagenError | undefined {
  if (isStoreUnavailable(err)) return err;
  const inner = (err as { cause?: unknown } | null)?.cause;
  const hit = [err, inner].find((e) => (kind === 'postgres' ? isConnectionError(e) : isSqliteOutage(e)));
  if (hit === undefined) return undefined;
  const name = storeName(kind);
  return new MediagenError(
    'STORE_UNAVAILABLE',
    `${name[0].toUpperCase()}${name.slice(1)} is unavailable (${messageOf(hit)}); nothing was written. Try again shortly.`,
    { store: kind },
  );
}

export interface WatchOptions {
  /** While down, how often a PostgreSQL store is probed for its return (default 2000 ms). */
  probeMs?: number;
  now?: () => number;
}

/** Store methods that only read (a SQLite read can pass while writes fail). */
export const READS =
  /^(get|list|observed|spend|find|count|read|health|ping|jobByProviderId|nextDueAt|toolOutcomes|openJobCounts|uncertainReservations|refundedSince|refundsSince|refundsByProvider|recentSpend|reservationOfJob|otherActivity)/i;

/** Outage state of one store: down since when, which methods failed, the probe that sees it come back. */
class Watch {
  private since: number | undefined;
  private readonly failed = new Set<string>();
  private probe: NodeJS.Timeout | undefined;
  private closed = false;
  /** PostgreSQL: a failure seen, its confirming probe not yet answered. */
  private checking = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly o: Required<WatchOptions>,
  ) {}

  /** A failure of `method`: STORE_UNAVAILABLE (logged once per outage) when it is an outage, else as it was. */
  fail(method: string, err: unknown): unknown {
    const out = asOutage(err, this.store.kind);
    if (!out) return err;
    this.failed.add(method);
    if (this.since !== undefined || this.closed || this.checking) return out;
    if (this.store.kind === 'sqlite') this.start(err);
    else this.confirm(err);
    return out;
  }

  /** PostgreSQL: the outage starts only when a probe right after the failure fails too. */
  confirm(err: unknown): void {
    this.checking = true;
    // Shortly after: every idle connection cut at once has told the pool by then (it drops them).
    const probe = (): Promise<unknown> =>
      new Promise((r) => setTimeout(r, 250).unref()).then(() => this.store.listJobs({ limit: 1, principal: 'local' }));
    probe()
      .catch(probe)
      .then(
        () => {
          this.failed.clear();
          this.logger.debug('store connection failed once; the next one worked', { error: messageOf(err) });
        },
        (again: unknown) => {
          if (this.since === undefined && !this.closed) this.start(asOutage(again, this.store.kind) ? again : err);
        },
      )
      .finally(() => (this.checking = false));
  }

  private start(err: unknown): void {
    this.since = this.o.now();
    this.logger.error(
      `${storeName(this.store.kind)} is unavailable: ${messageOf(err)}; calls that need it answer STORE_UNAVAILABLE until it is back`,
    );
    if (this.store.kind === 'postgres') this.startProbe();
  }

  /** A success of `method`: the outage is over once a call of a kind that failed in it passes. */
  ok(method: string): void {
    if (this.since === undefined) return;
    // SQLite (no probe): any write that passes ends it, so a full disk met by one write does not stay "down".
    if (this.failed.has(method) || (this.store.kind === 'sqlite' && !READS.test(method))) this.up();
  }

  stop(): void {
    this.closed = true;
    clearInterval(this.probe);
  }

  private up(): void {
    if (this.since === undefined) return;
    const seconds = Math.max(0, Math.round((this.o.now() - this.since) / 1000));
    this.since = undefined;
    this.failed.clear();
    clearInterval(this.probe);
    this.probe = undefined;
    if (!this.closed) this.logger.info(`${storeName(this.store.kind)} is reachable again after ${seconds} s`);
  }

  /** PostgreSQL: a connection that works again is the end of the outage, even with no call to notice it. */
  private startProbe(): void {
    let running = false;
    this.probe = setInterval(() => {
      if (running) return;
      running = true;
      this.store
        .listJobs({ limit: 1, principal: 'local' })
        .then(
          () => this.up(),
          () => undefined,
        )
        .finally(() => (running = false));
    }, this.o.probeMs);
    this.probe.unref();
  }
}

/**
 * The store with its outages watched: every method's outage failure becomes STORE_UNAVAILABLE, and the
 * outage is logged once at its start and once at its end. Returns the watched store and `lost`, for
 * failures seen outside a call (an idle PostgreSQL connection cut by the server).
 */
export function watchStore(
  store: Store,
  logger: Logger,
  opts: WatchOptions = {},
): { store: Store; lost: (err: Error) => void } {
  const watch = new Watch(store, logger, { probeMs: opts.probeMs ?? 2_000, now: opts.now ?? Date.now });
  const wrapped = new Map<PropertyKey, unknown>();
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      let fn = wrapped.get(prop);
      if (fn === undefined) {
        const method = String(prop);
        const call = value as (...args: unknown[]) => unknown;
        fn =
          method === 'close'
            ? (...args: unknown[]) => {
                watch.stop();
                return call.apply(target, args);
              }
            : (...args: unknown[]) => {
                let r: unknown;
                try {
                  r = call.apply(target, args);
                } catch (err) {
                  throw watch.fail(method, err);
                }
                if (!(r instanceof Promise)) return r;
                return r.then(
                  (v: unknown) => {
                    watch.ok(method);
                    return v;
                  },
                  (err: unknown) => {
                    throw watch.fail(method, err);
                  },
                );
              };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
  return {
    store: proxy,
    // An idle connection cut (idle_session_timeout, a proxy's reset) is routine: the probe decides.
    lost: (err) => {
      if (asOutage(err, store.kind)) watch.fail('connection', err);
      else logger.debug('store connection lost; it will be replaced', { error: messageOf(err) });
    },
  };
}
