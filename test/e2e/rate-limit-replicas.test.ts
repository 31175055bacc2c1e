/**
 * Phaya's rate limit holds across two replicas (real processes, real HTTP) sharing one PostgreSQL
 * database and one key, each loaded by its own client while both background workers poll open jobs.
 * `--rate-limit phaya=10/3` keeps it short; the counting sandbox's arrival times are the measure.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backgroundLimit } from '../../src/providers/rate-limit.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectHttp, spawnHttp, type HttpClient, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { freshDatabase, HAS_PG, requirePg } from '../helpers/pg.js';
import { text } from '../helpers/stdio.js';

requirePg('the rate limit across two replicas on PostgreSQL');
const LIMIT = 10;
const WINDOW_MS = 3_000;
/**
 * A start is counted at the time its replica asked the store, a store round trip before the request
 * leaves; the sandbox sees it on arrival. Two starts a full window apart therefore arrive apart by the
 * window less the difference of their round trips (here up to ~150 ms: the first take after a replica's
 * pump slept a whole window is the slowest). So arrivals are checked over windows this much shorter.
 * Without the shared count, twice the limit arrives within a few milliseconds.
 */
const SLACK_MS = 300;
const PER_CLIENT = 15;
let sandbox: Sandbox;
let db: { url: string; drop: () => Promise<void> };
let replicas: HttpServerProcess[] = [];
const clients: HttpClient[] = [];

beforeAll(async () => {
  if (!HAS_PG) return;
  sandbox = await startSandbox({ pollsToComplete: 100_000 }); // jobs stay open: the workers keep polling
  db = await freshDatabase();
  const env = {
    PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
    PHAYA_API_KEY: sandbox.key,
    DATABASE_URL: db.url,
    MEDIAGEN_POLL_MS: '500',
  };
  const args = ['--rate-limit', `phaya=${LIMIT}/${WINDOW_MS / 1000}`, '--http-rate', 'off'];
  replicas = await Promise.all([
    spawnHttp({ ...env, MEDIAGEN_STATE_DIR: tempDir() }, args),
    spawnHttp({ ...env, MEDIAGEN_STATE_DIR: tempDir() }, args),
  ]);
  for (const r of replicas) clients.push(await connectHttp(r.url));
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const r of replicas) await r.stop();
  await sandbox?.close();
  await db?.drop();
});

/** Most arrivals in any span shorter than `ms`. */
function busiest(ats: number[], ms: number): number {
  const t = [...ats].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j] - t[i] >= ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe.runIf(HAS_PG)('the Phaya rate limit across two replicas on one PostgreSQL database', () => {
  it(`no ${WINDOW_MS / 1000} s window holds more than ${LIMIT} Phaya requests, with both replicas loaded at once`, async () => {
    // Two open jobs per replica: both workers poll them in the background all through the test.
    for (const c of clients)
      for (const prompt of ['a red kite', 'a blue kite']) {
        const r = await c.call('phaya_text_to_image', { prompt });
        expect(r.isError, text(r)).toBeFalsy();
      }
    const polls = () =>
      sandbox.stats().requests.filter((r) => r.provider === 'phaya' && r.path.includes('/status/')).length;
    for (let i = 0; i < 400 && polls() < 4; i++) await new Promise((r) => setTimeout(r, 25));
    // Warm both replicas' request paths up, then let the window pass: the measure is of the limit, not of
    // a cold start.
    await Promise.all(clients.flatMap((c) => Array.from({ length: 3 }, () => c.call('phaya_user_profile', {}))));
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    const measured = Date.now();
    const pollsBefore = polls();
    // A fills the window first; then both are loaded at once, so their requests start once the system
    // is quiet (every call already queued), not while the burst of 30 calls is still being sent.
    const first = await Promise.all(Array.from({ length: LIMIT }, () => clients[0].call('phaya_user_credits', {})));
    const calls = clients.flatMap((c) =>
      Array.from({ length: PER_CLIENT }, (_, i) => c.call(i % 2 ? 'phaya_user_credits' : 'phaya_tts_voices', {})),
    );
    const results: CallToolResult[] = await Promise.all(calls);
    for (const r of [...first, ...results]) expect(r.isError, text(r)).toBeFalsy();
    // Let the workers poll on for two more windows with nothing in the foreground.
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS));
    const phaya = sandbox.stats().requests.filter((r) => r.provider === 'phaya' && r.at >= measured);
    expect(phaya.filter((r) => !r.path.includes('/status/')).length).toBe(LIMIT + 2 * PER_CLIENT);
    expect(polls() - pollsBefore).toBeGreaterThan(0);
    expect(
      busiest(
        phaya.map((r) => r.at),
        WINDOW_MS - SLACK_MS,
      ),
    ).toBeLessThanOrEqual(LIMIT);
    // The polls alone never take the foreground's share (a quarter of the window, here 2 of 10).
    const background = phaya.filter((r) => r.path.includes('/status/')).map((r) => r.at);
    expect(busiest(background, WINDOW_MS - SLACK_MS)).toBeLessThanOrEqual(backgroundLimit(LIMIT));
    expect(backgroundLimit(LIMIT)).toBe(8);
    for (const r of replicas) expect(r.stderr()).not.toMatch(/counting this process only/);
  }, 60_000);
});
