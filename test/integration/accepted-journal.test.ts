/**
 * The accepted-job journal against real stores (issue 17, item 2): an entry replayed twice, or by two
 * processes' journals at once (two store connections, one file), is recorded once and its reservation
 * committed once; a fully replayed journal is compacted away; a line torn by a crash does not swallow the
 * next entry; an entry that meets another job where it belongs is kept (and logged), never dropped.
 */
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AcceptedJournal, JOURNAL_FILE, type AcceptedEntry } from '../../src/jobs/journal.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { PgStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { makeJob, makeReserve, T0 } from '../store/contract-fixtures.js';
import { tempDir } from '../helpers/in-memory.js';
import { DATABASE_URL, dropSchemas, freshSchema, HAS_PG } from '../helpers/pg.js';

const open: Store[] = [];
const schemas: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await dropSchemas(schemas);
});

/** A reserved call and the journal entry of its accepted job. */
async function accepted(store: Store, over: Partial<AcceptedEntry> = {}): Promise<AcceptedEntry> {
  const r = makeReserve({ credits: 2, provider: 'acme', principal: 'principal-a' });
  const res = await store.reserve(r);
  expect(res.ok).toBe(true);
  await store.claimIdempotency('principal-a/k-1', 'acme_image', 'h-args', T0);
  return {
    reservation: r.id,
    provider: 'acme',
    tool: 'acme_image',
    principal: 'principal-a',
    providerJobId: `p-${r.id}`,
    job: makeJob({ id: r.id, providerJobId: `p-${r.id}`, principal: 'principal-a' }),
    idempotencyKey: 'principal-a/k-1',
    at: T0,
    ...over,
  };
}

async function checkOnce(store: Store, e: AcceptedEntry): Promise<void> {
  const jobs = (await store.listJobs({ limit: 10 })).jobs;
  expect(jobs.map((j) => j.id)).toEqual([e.reservation]);
  expect((await store.getReservation(e.reservation))?.state).toBe('committed');
  const key = await store.claimIdempotency('principal-a/k-1', 'acme_image', 'h-args', T0 + 1);
  expect(key).toMatchObject({ state: 'existing', record: { jobId: e.reservation } });
}

const stores: [string, () => Promise<[Store, Store]>][] = [
  [
    'SQLite',
    async () => {
      const file = join(tempDir(), 'mediagen.sqlite');
      const pair: [Store, Store] = [SqliteStore.open(file), SqliteStore.open(file)];
      open.push(...pair);
      return pair;
    },
  ],
];
if (HAS_PG)
  stores.push([
    'PostgreSQL',
    async () => {
      const schema = freshSchema();
      schemas.push(schema);
      const a = await PgStore.open(DATABASE_URL ?? '', { schema });
      const b = await PgStore.open(DATABASE_URL ?? '', { schema });
      open.push(a, b);
      return [a, b];
    },
  ]);

describe.each(stores)('the accepted-job journal on %s', (_name, pair) => {
  it('two journals replaying one file at once, then again: one record, committed once, file compacted', async () => {
    const [a, b] = await pair();
    const dir = tempDir();
    const e = await accepted(a);
    const ja = AcceptedJournal.in(dir, silentLogger);
    ja.append(e);
    const file = join(dir, JOURNAL_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const jb = AcceptedJournal.in(dir, silentLogger);
    const written = await Promise.all([ja.replay(a, () => T0 + 10), jb.replay(b, () => T0 + 10)]);
    expect(written[0] + written[1]).toBeGreaterThanOrEqual(1);
    await checkOnce(a, e);
    expect(await ja.replay(a, () => T0 + 20)).toBe(0);
    expect(existsSync(file)).toBe(false);
    // The same entry journaled again (a shutdown and the request both kept it): still once.
    ja.append(e);
    await ja.replay(a, () => T0 + 30);
    await checkOnce(a, e);
  });

  it('a line torn by a crash mid-write does not hide the entry after it', async () => {
    const [a] = await pair();
    const dir = tempDir();
    const e = await accepted(a);
    appendFileSync(join(dir, JOURNAL_FILE), '{"v":1,"entry":{"reservation":"res-torn","provi', { mode: 0o600 });
    const j = AcceptedJournal.in(dir, silentLogger);
    j.append(e);
    expect(j.pending().map((p) => p.reservation)).toEqual([e.reservation]);
    expect(await j.replay(a, () => T0 + 10)).toBe(1);
    await checkOnce(a, e);
  });

  it('another provider job under the same id: kept in the journal and logged at error level, not dropped', async () => {
    const [a] = await pair();
    const dir = tempDir();
    const e = await accepted(a);
    await a.insertJob(makeJob({ id: e.reservation, providerJobId: 'p-somebody-else', principal: 'principal-a' }));
    const lines: string[] = [];
    const j = AcceptedJournal.in(
      dir,
      createLogger('info', [], (l) => lines.push(l)),
    );
    j.append(e);
    expect(await j.replay(a, () => T0 + 10)).toBe(0);
    expect(j.pending().map((p) => p.reservation)).toEqual([e.reservation]);
    expect(lines.join('\n')).toMatch(new RegExp(`error: journaled paid call conflicts.*p-${e.reservation}`));
    expect(readFileSync(join(dir, JOURNAL_FILE), 'utf8')).toContain(`p-${e.reservation}`);
  });
});
