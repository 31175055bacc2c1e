/**
 * Shared pieces of the background worker tests: the sandbox's status polls per provider job (with their
 * arrival times), a look into the ledger from outside the server processes (the store file or database
 * itself), and bounded waits.
 */
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/open.js';
import type { JobRecord, Store } from '../../src/store/store.js';

/** Arrival times (ms) of the sandbox's status polls of one provider job id, oldest first. */
export function statusPolls(s: Sandbox, providerJobId: string): number[] {
  return s
    .stats()
    .requests.filter((r) => r.method === 'GET' && r.path.split('?')[0].endsWith(`/status/${providerJobId}`))
    .map((r) => r.at);
}

/** Every status poll the sandbox saw (any job). */
export function allStatusPolls(s: Sandbox): number {
  return s.stats().requests.filter((r) => r.method === 'GET' && /\/status\//.test(r.path)).length;
}

/** The shortest time between two consecutive polls in `times` (Infinity with fewer than two). */
export function shortestGap(times: readonly number[]): number {
  let min = Infinity;
  for (let i = 1; i < times.length; i++) min = Math.min(min, times[i] - times[i - 1]);
  return min;
}

/** Open the ledger the servers use (SQLite under `stateDir`, or PostgreSQL at `databaseUrl`), run `fn`, close. */
export async function withLedger<T>(
  where: { stateDir: string; databaseUrl?: string },
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(where);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Poll `check` (every 100 ms, up to `ms`) until it returns a value; fails the test with `what` otherwise. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`not in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Wait until every job of `ids` is final in the ledger at `where`; returns them. */
export async function allFinal(
  where: { stateDir: string; databaseUrl?: string },
  ids: readonly string[],
  ms = 60_000,
): Promise<JobRecord[]> {
  return withLedger(where, (store) =>
    eventually(
      `${ids.length} jobs final`,
      async () => {
        const jobs = await Promise.all(ids.map((id) => store.getJob(id)));
        return jobs.every((j) => j && ['succeeded', 'failed', 'cancelled'].includes(j.status))
          ? (jobs as JobRecord[])
          : undefined;
      },
      ms,
    ),
  );
}

/** A quiet spell: wait `ms` (for tests that prove nothing happens). */
export const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every job of `jobs` succeeded with outputs. */
export function expectSucceeded(jobs: readonly JobRecord[]): void {
  for (const j of jobs) {
    expect(j.status, j.id).toBe('succeeded');
    expect(j.outputs.length, j.id).toBeGreaterThan(0);
  }
}

export interface PollCheck {
  /** Status polls the sandbox needs to finish a job (its pollsToComplete). */
  polls: number;
  pollMs: number;
  /** How much shorter than one interval two polls of one job may be apart (clock rounding). */
  slackMs: number;
  /** Jobs that may have one poll more (a poll answered to a worker killed before it recorded the answer). */
  maxExtra: number;
}

/**
 * One poller per job: every job was polled exactly as often as the sandbox needs (one more for at most
 * `maxExtra` jobs), and no two polls of one job came less than an interval (minus the slack) apart.
 */
export function expectOnePollerPerJob(s: Sandbox, providerJobIds: readonly string[], c: PollCheck): void {
  let extra = 0;
  for (const pj of providerJobIds) {
    const times = statusPolls(s, pj);
    expect(times.length, pj).toBeGreaterThanOrEqual(c.polls);
    expect(times.length, pj).toBeLessThanOrEqual(c.polls + 1);
    if (times.length > c.polls) extra++;
    expect(shortestGap(times), `${pj}: ${times.join(', ')}`).toBeGreaterThanOrEqual(c.pollMs - c.slackMs);
  }
  expect(extra).toBeLessThanOrEqual(c.maxExtra);
}

/** A worker's Phaya status request in a server's debug log (every one of them, with no client polling). */
export const STATUS_REQUEST = /provider request \{"provider":"phaya","method":"GET","path":"\/text-to-image\/status\//;

/**
 * After one of two workers sharing `jobs` was killed mid-way: some jobs were still open at the kill, the
 * survivor finishes every one, each job had one poller at a time (`check`), and both workers polled
 * (`logs`: each server's stderr, read at the end; no client call after the creates).
 */
export async function expectTakenOver(
  where: { stateDir: string; databaseUrl?: string },
  jobs: readonly { id: string; providerJobId: string }[],
  s: Sandbox,
  check: PollCheck,
  logs: readonly (() => string)[],
): Promise<void> {
  const openAtKill = await withLedger(where, async (st) => {
    const all = await Promise.all(jobs.map((j) => st.getJob(j.id)));
    return all.filter((j) => j && j.status !== 'succeeded').length;
  });
  expect(openAtKill).toBeGreaterThan(0);
  expectSucceeded(
    await allFinal(
      where,
      jobs.map((j) => j.id),
      120_000,
    ),
  );
  expectOnePollerPerJob(
    s,
    jobs.map((j) => j.providerJobId),
    check,
  );
  for (const log of logs) expect(log()).toMatch(STATUS_REQUEST);
}
