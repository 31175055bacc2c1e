/**
 * The provider rate limit counted in the store: two limiters on one real store (two SQLite connections
 * to one file, two PostgreSQL pools on one schema) stand for two processes or replicas using one key.
 * Every claim is derived from the start times the limiters counted (the `now` each granted take was
 * recorded at in the store), never from how long anything took.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log.js';
import { backgroundLimit, rateBucket, RateLimiter, type RateLimit } from '../../src/providers/rate-limit.js';
import { PgStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { DATABASE_URL, dropSchemas, freshSchema, HAS_PG, requirePg } from '../helpers/pg.js';

requirePg('shared rate limit on PostgreSQL');

interface Start {
  who: string;
  background: boolean;
  at: number;
}

/** A logger that keeps its warnings (a warning here means the store was not used). */
function warnings(): { logger: Logger; warned: string[] } {
  const warned: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => void warned.push(m), error() {} };
  return { logger, warned };
}

/** Most starts counted in any window of `windowMs` (starts at t and t + windowMs are in different windows). */
function busiestWindow(ats: number[], windowMs: number): number {
  const t = [...ats].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j] - t[i] >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * Starts the store had counted in the window of `s` when it took `s`: those counted earlier than `s.at`
 * in its window, and those of the same limiter counted in the same millisecond before it (a limiter takes
 * one at a time; across limiters, the order within one millisecond is not recorded).
 */
function before(starts: Start[], s: Start, windowMs: number): number {
  const i = starts.indexOf(s);
  return starts.filter((o, j) => o.at > s.at - windowMs && (o.at < s.at || (o.at === s.at && o.who === s.who && j < i)))
    .length;
}

function sharedLimitContract(name: string, open: () => Promise<[Store, Store]>): void {
  describe(`shared rate limit over ${name}`, () => {
    const limit: RateLimit = { requests: 5, perSeconds: 0.4 };
    const windowMs = 400;

    async function pair(bucket: string) {
      const [s1, s2] = await open();
      const log = warnings();
      const opts = { logger: log.logger, bucket };
      return {
        a: new RateLimiter(limit, { ...opts, store: s1 }),
        b: new RateLimiter(limit, { ...opts, store: s2 }),
        log,
      };
    }

    it('two limiters on one store never start more than the limit in any window', async () => {
      const { a, b, log } = await pair(rateBucket('acme', `key-${Math.random()}`));
      const starts: Start[] = [];
      const run = (l: RateLimiter, who: string) =>
        l.acquire(undefined, false).then((at) => void starts.push({ who, background: false, at }));
      await Promise.all(Array.from({ length: 24 }, (_, i) => run(i % 2 ? a : b, i % 2 ? 'a' : 'b')));
      expect(log.warned).toEqual([]);
      expect(starts).toHaveLength(24);
      expect(new Set(starts.map((s) => s.who))).toEqual(new Set(['a', 'b']));
      // Each limiter alone would allow 5 per window, so 10 together: the store holds them to 5.
      expect(
        busiestWindow(
          starts.map((s) => s.at),
          windowMs,
        ),
      ).toBeLessThanOrEqual(5);
    });

    it('background takes leave the foreground its share, and foreground waiters go first in a process', async () => {
      const { a, b, log } = await pair(rateBucket('acme', `key-${Math.random()}`));
      const starts: Start[] = [];
      const run = (l: RateLimiter, who: string, background: boolean) =>
        l.acquire(undefined, background).then((at) => void starts.push({ who, background, at }));
      // Background polls queue first on A; foreground calls arrive on A and B once the first poll started.
      const polls = Array.from({ length: 10 }, () => run(a, 'a', true));
      for (let i = 0; i < 2000 && !starts.length; i++) await new Promise((r) => setTimeout(r, 5));
      const cutoff = starts.length;
      const calls = Array.from({ length: 12 }, (_, i) => run(i % 2 ? a : b, i % 2 ? 'a' : 'b', false));
      await Promise.all([...polls, ...calls]);
      expect(log.warned).toEqual([]);
      expect(
        busiestWindow(
          starts.map((s) => s.at),
          windowMs,
        ),
      ).toBeLessThanOrEqual(limit.requests);
      // A background start is counted only while fewer than the background limit started in its window.
      const bg = backgroundLimit(limit.requests);
      expect(bg).toBe(4);
      for (const s of starts.filter((x) => x.background)) expect(before(starts, s, windowMs)).toBeLessThan(bg);
      // Inside A, the polls queued before the calls came wait behind them: of A's polls started after the
      // calls were queued, at most one (whose take was already in flight) precedes A's last call.
      const lastCallA = Math.max(...starts.filter((s) => s.who === 'a' && !s.background).map((s) => s.at));
      const laterPolls = starts.slice(cutoff).filter((s) => s.background);
      expect(laterPolls.filter((s) => s.at < lastCallA).length).toBeLessThanOrEqual(1);
      expect(laterPolls.length).toBeGreaterThan(0);
    });

    it('a store that fails does not stop calls: this process counts its own starts, with one warning', async () => {
      const [s1] = await open();
      await s1.close();
      const log = warnings();
      const l = new RateLimiter(limit, { logger: log.logger, bucket: 'acme:0000', store: s1 });
      const ats = await Promise.all(Array.from({ length: 8 }, () => l.acquire()));
      expect(busiestWindow(ats, windowMs)).toBe(5);
      expect(log.warned).toHaveLength(1);
      expect(log.warned[0]).toMatch(/counting this process only/);
    });
  });
}

const dirs: string[] = [];
const opened: Store[] = [];
const schemas: string[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  await dropSchemas(schemas);
});

sharedLimitContract('one SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediagen-rate-'));
  dirs.push(dir);
  const file = join(dir, 'db.sqlite');
  const s = [SqliteStore.open(file), SqliteStore.open(file)] as [Store, Store];
  opened.push(...s);
  return s;
});

if (HAS_PG)
  sharedLimitContract('one PostgreSQL database', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const first = await PgStore.open(DATABASE_URL ?? '', { schema });
    const s = [first, await PgStore.open(DATABASE_URL ?? '', { schema })] as [Store, Store];
    opened.push(...s);
    return s;
  });
