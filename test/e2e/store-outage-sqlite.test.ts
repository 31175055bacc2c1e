/**
 * A store failure after the provider accepted never loses the job (issue 17, item 2), on SQLite: the
 * database file becomes unwritable while the create is out. The answer is OUTCOME_UNKNOWN with the
 * provider job id and the jobs_track call that settles it, the error is logged, and the job is in the
 * accepted-job journal; once the file is writable again, two servers started at once on that state dir
 * both replay the journal and the ledger holds the job exactly once, with no new provider create. A
 * SIGTERM while the writes are still being retried sends the accepted job to the journal as well.
 *
 * How the file is made unwritable: the tests run as root, where chmod stops nothing, and an open SQLite
 * connection keeps writing through its descriptors anyway. `chattr +i` (the immutable attribute, ext4)
 * on the database and its -wal makes every write fail with SQLITE_IOERR_WRITE while reads go on, and
 * `chattr -i` makes it writable again (the -shm is left alone: it is mmapped, and an immutable -shm
 * kills the process with SIGBUS). Skipped, with the reason printed, where chattr cannot set the flag.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH, totals, until } from '../helpers/money.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import { openDatabase } from '../../src/store/sqlite-driver.js';

const JOURNAL = 'accepted-journal.jsonl';
const DB = 'mediagen.sqlite';

/** Whether chattr +i works here (ext4 and CAP_LINUX_IMMUTABLE); the test is skipped otherwise. */
function immutableWorks(): boolean {
  const f = join(tempDir('mediagen-chattr-'), 'probe');
  writeFileSync(f, 'x');
  const set = spawnSync('chattr', ['+i', f]);
  if (set.status !== 0) return false;
  spawnSync('chattr', ['-i', f]);
  return true;
}
const CAN = immutableWorks();
if (!CAN) process.stderr.write('[skip] SQLite outage: chattr +i does not work on this file system\n');

let sandbox: Sandbox;
const servers: StdioServer[] = [];
let frozen: string[] = [];

function freeze(dir: string): void {
  frozen = [DB, `${DB}-wal`].map((f) => join(dir, f)).filter((f) => existsSync(f));
  execFileSync('chattr', ['+i', ...frozen]);
}
function thaw(): void {
  if (frozen.length) execFileSync('chattr', ['-i', ...frozen]);
  frozen = [];
}

beforeAll(async () => {
  sandbox = await startSandbox({ slowMs: 2_500 });
});
afterEach(async () => {
  thaw();
  while (servers.length) await servers.pop()!.close();
});
afterAll(async () => {
  thaw();
  await sandbox?.close();
});

function journalEntries(dir: string): { entry?: { providerJobId?: string; reservation: string }; done?: string }[] {
  const file = join(dir, JOURNAL);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { entry?: { providerJobId?: string; reservation: string }; done?: string });
}

/** Journal entries not yet marked done. */
function pendingIn(dir: string): number {
  const lines = journalEntries(dir);
  const done = new Set(lines.map((l) => l.done));
  return lines.filter((l) => l.entry && !done.has(l.entry.reservation)).length;
}

describe.runIf(CAN)('SQLite made unwritable while a create is out', () => {
  it('OUTCOME_UNKNOWN with the provider job id, journaled; replayed once by two servers at start; no second create', async () => {
    const dir = tempDir();
    const env = phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir, MEDIAGEN_HTTP_TIMEOUT_MS: '4000' });
    const a = await spawnStdio(env);
    servers.push(a);
    expect((await a.call('spend_report')).isError).toBeFalsy(); // the database and its WAL exist
    const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'store-outage-sqlite-01' };
    const pending = a.call(T2I, args);
    await until(() => hits(sandbox, T2I_PATH) === 1);
    freeze(dir);

    const r = await pending;
    expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
    const providerJobId = sc(r).provider_job_id as string;
    expect(typeof providerJobId).toBe('string');
    expect(sc(r)).toMatchObject({
      journaled: true,
      idempotency_key: args.idempotency_key,
      settle: { tool: 'jobs_track', arguments: { tool: T2I, provider_job_id: providerJobId } },
    });
    expect(text(r)).not.toMatch(/nothing was written/i);
    const reservation = sc(r).reservation as string;
    expect(sc(r).settle).toMatchObject({ arguments: { reservation_id: reservation } });
    expect(a.stderr()).toMatch(new RegExp(`error: .*accepted a paid call.*${providerJobId}`));

    // The journal holds it (fsynced JSON lines, mode 0600), and the ledger does not.
    expect(journalEntries(dir).find((l) => l.entry?.reservation === reservation)?.entry?.providerJobId).toBe(
      providerJobId,
    );
    expect(statSync(join(dir, JOURNAL)).mode & 0o777).toBe(0o600);
    const during = await a.call('jobs_list', {});
    expect(during.isError, text(during)).toBeFalsy();
    expect(sc(during).jobs).toEqual([]);
    await a.close();
    servers.splice(0);

    thaw();
    const [b, c] = await Promise.all([spawnStdio(env), spawnStdio(env)]);
    servers.push(b, c);
    let listed: { job_id: string; provider_job_id: string }[] = [];
    for (let i = 0; i < 200 && listed.length === 0; i++) {
      listed = sc(await b.call('jobs_list', {})).jobs as typeof listed;
      if (listed.length === 0) await new Promise((res) => setTimeout(res, 50));
    }
    expect(listed.map((j) => [j.job_id, j.provider_job_id])).toEqual([[reservation, providerJobId]]);
    await until(() => pendingIn(dir) === 0);
    // Both replayed (at start); still one record, and the reservation committed once.
    const fromC = sc(await c.call('jobs_list', {})).jobs as typeof listed;
    expect(fromC.map((j) => j.job_id)).toEqual([reservation]);
    expect(totals(await c.call('spend_report'), 'phaya')).toMatchObject({ committed: 1, reserved: 0, uncertain: 0 });

    const again = await b.call(T2I, args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again)).toMatchObject({ job_id: reservation, reused: true });
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });

  it('SIGTERM while the writes are being retried: the accepted job goes to the journal, the next start records it', async () => {
    const dir = tempDir();
    const env = phayaEnv(sandbox, {
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_HTTP_TIMEOUT_MS: '20000',
      MEDIAGEN_DRAIN_SECONDS: '1',
    });
    const a = await spawnStdio(env);
    servers.push(a);
    expect((await a.call('spend_report')).isError).toBeFalsy();
    const before = hits(sandbox, T2I_PATH);
    const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'store-outage-sigterm-1' };
    const pending = a.call(T2I, args).catch((err: unknown) => err);
    await until(() => hits(sandbox, T2I_PATH) === before + 1);
    freeze(dir);
    await until(() => /retrying until the request deadline/.test(a.stderr()));
    process.kill(a.pid!, 'SIGTERM');
    await pending;
    await until(() => /the server stopped before the store recorded it/.test(a.stderr()));
    const kept = journalEntries(dir).find((l) => l.entry)?.entry;
    expect(kept?.providerJobId).toMatch(/\S/);
    servers.splice(0);

    thaw();
    const b = await spawnStdio(env);
    servers.push(b);
    let listed: { job_id: string; provider_job_id: string }[] = [];
    for (let i = 0; i < 200 && listed.length === 0; i++) {
      listed = sc(await b.call('jobs_list', {})).jobs as typeof listed;
      if (listed.length === 0) await new Promise((res) => setTimeout(res, 50));
    }
    expect(listed.map((j) => [j.job_id, j.provider_job_id])).toEqual([[kept!.reservation, kept!.providerJobId]]);
    const again = await b.call(T2I, args);
    expect(sc(again), text(again)).toMatchObject({ job_id: kept!.reservation, reused: true });
    expect(hits(sandbox, T2I_PATH)).toBe(before + 1);
  });
});

describe('SQLite locked by another process past its busy timeout', () => {
  it('a paid call is STORE_UNAVAILABLE with zero provider requests; the outage logged once at its start and once at its end', async () => {
    const dir = tempDir();
    const s = await spawnStdio(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir }));
    servers.push(s);
    expect((await s.call('spend_report')).isError).toBeFalsy();
    const before = hits(sandbox, T2I_PATH);
    const lines = (re: RegExp): number =>
      s
        .stderr()
        .split('\n')
        .filter((l) => re.test(l)).length;
    const down = /error: the store \(SQLite\) is unavailable/;
    const back = /info: the store \(SQLite\) is reachable again after \d+ s/;
    // Another process holds the write lock: every write waits busy_timeout (5 s), then fails SQLITE_BUSY.
    const holder = openDatabase(join(dir, DB));
    holder.exec('BEGIN IMMEDIATE');
    try {
      for (let i = 0; i < 2; i++) {
        const r = await s.call(T2I, { prompt: `a lantern ${i}`, idempotency_key: `sqlite-locked-${i}` });
        expect(sc(r).code, text(r)).toBe('STORE_UNAVAILABLE');
        expect(sc(r)).toMatchObject({ sent: false, provider: 'phaya' });
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(hits(sandbox, T2I_PATH)).toBe(before);
    expect(lines(down)).toBe(1);
    const r = await s.call(T2I, { prompt: 'a lantern 0', idempotency_key: 'sqlite-locked-0' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(hits(sandbox, T2I_PATH)).toBe(before + 1);
    await until(() => lines(back) === 1);
    expect(lines(down)).toBe(1);
    expect(s.stderr()).not.toMatch(/tool call failed/);
  }, 60_000);
});
