/**
 * Store contract, part 1: jobs (insert, get, update, list with filters and keyset pagination).
 */
import { describe, expect, it } from 'vitest';
import type { JobQuery, JobRecord, Store } from '../../src/store/store.js';
import { makeJob, T0, type StoreRef } from './contract-fixtures.js';

async function allPages(store: Store, q: Omit<JobQuery, 'cursor'>): Promise<{ pages: JobRecord[][] }> {
  const pages: JobRecord[][] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 50; guard++) {
    const page = await store.listJobs({ ...q, cursor });
    pages.push(page.jobs);
    if (page.nextCursor === undefined) return { pages };
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

export function jobsContract(ref: StoreRef): void {
  describe('jobs', () => {
    it('inserts and gets a job back unchanged', async () => {
      const job = makeJob({
        id: 'job_1',
        price: 1.21,
        status: 'succeeded',
        providerStatus: 'COMPLETED',
        progress: 100,
        outputs: [
          { url: 'https://x/1.png', kind: 'image', mimeType: 'image/png', path: '/out/1.png' },
          { url: 'https://x/2.mp4', kind: 'video' },
        ],
        error: null,
        polls: 3,
        finishedAt: T0 + 5,
      });
      await ref.store.insertJob(job);
      expect(await ref.store.getJob('job_1')).toEqual(job);
      const withNulls = makeJob({ id: 'job_2', price: null });
      await ref.store.insertJob(withNulls);
      expect(await ref.store.getJob('job_2')).toEqual(withNulls);
    });

    it('returns undefined for an unknown job', async () => {
      expect(await ref.store.getJob('job_nope')).toBeUndefined();
    });

    it('refuses a second job with the same id and keeps the first', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1', tool: 'first' }));
      await expect(ref.store.insertJob(makeJob({ id: 'job_1', tool: 'second' }))).rejects.toThrow();
      expect((await ref.store.getJob('job_1'))?.tool).toBe('first');
    });

    it('updates only the patched fields, sets updatedAt and returns the record', async () => {
      const job = makeJob({ id: 'job_1' });
      await ref.store.insertJob(job);
      const outputs = [{ url: 'https://x/a.png', kind: 'image', mimeType: 'image/png' }];
      const updated = await ref.store.updateJob(
        'job_1',
        { status: 'running', providerStatus: 'processing', progress: 40, polls: 2 },
        T0 + 100,
      );
      const expected1 = { ...job, status: 'running', providerStatus: 'processing', progress: 40, polls: 2 };
      expect(updated).toEqual({ ...expected1, updatedAt: T0 + 100 });
      expect(await ref.store.getJob('job_1')).toEqual(updated);

      const done = await ref.store.updateJob(
        'job_1',
        { status: 'succeeded', outputs, finishedAt: T0 + 200, progress: undefined },
        T0 + 200,
      );
      expect(done).toEqual({
        ...expected1,
        status: 'succeeded',
        outputs,
        finishedAt: T0 + 200,
        updatedAt: T0 + 200,
      });

      const failed = await ref.store.updateJob('job_1', { error: 'boom', progress: null }, T0 + 300);
      expect(failed?.error).toBe('boom');
      expect(failed?.progress).toBeNull();
      const cleared = await ref.store.updateJob('job_1', { error: null }, T0 + 400);
      expect(cleared?.error).toBeNull();
      expect(cleared?.status).toBe('succeeded');

      const touched = await ref.store.updateJob('job_1', {}, T0 + 500);
      expect(touched).toEqual({ ...cleared, updatedAt: T0 + 500 });
    });

    it('returns undefined when updating an unknown job', async () => {
      expect(await ref.store.updateJob('job_nope', { status: 'failed' }, T0)).toBeUndefined();
      expect(await ref.store.getJob('job_nope')).toBeUndefined();
    });

    it('lists newest first, ties broken by id descending', async () => {
      await ref.store.insertJob(makeJob({ id: 'job_a', createdAt: T0 + 1 }));
      await ref.store.insertJob(makeJob({ id: 'job_c', createdAt: T0 + 2 }));
      await ref.store.insertJob(makeJob({ id: 'job_b', createdAt: T0 + 2 }));
      await ref.store.insertJob(makeJob({ id: 'job_d', createdAt: T0 }));
      const page = await ref.store.listJobs({ limit: 10 });
      expect(page.jobs.map((j) => j.id)).toEqual(['job_c', 'job_b', 'job_a', 'job_d']);
      expect(page.nextCursor).toBeUndefined();
      expect(page.jobs[0]).toEqual(makeJob({ id: 'job_c', createdAt: T0 + 2 }));
    });

    it('returns an empty page for an empty store', async () => {
      expect(await ref.store.listJobs({ limit: 10 })).toEqual({ jobs: [] });
    });

    it('filters by status, provider, since (inclusive) and until (exclusive)', async () => {
      const specs: [string, string, JobRecord['status'], number][] = [
        ['j1', 'acme', 'pending', T0 + 10],
        ['j2', 'acme', 'running', T0 + 20],
        ['j3', 'bolt', 'running', T0 + 30],
        ['j4', 'bolt', 'succeeded', T0 + 40],
        ['j5', 'acme', 'succeeded', T0 + 50],
        ['j6', 'acme', 'failed', T0 + 60],
        ['j7', 'bolt', 'cancelled', T0 + 70],
      ];
      for (const [id, provider, status, createdAt] of specs) {
        await ref.store.insertJob(makeJob({ id, provider, status, createdAt, updatedAt: createdAt }));
      }
      const ids = async (q: Omit<JobQuery, 'limit'>): Promise<string[]> =>
        (await ref.store.listJobs({ limit: 100, ...q })).jobs.map((j) => j.id);
      expect(await ids({ status: 'running' })).toEqual(['j3', 'j2']);
      expect(await ids({ status: 'cancelled' })).toEqual(['j7']);
      expect(await ids({ provider: 'acme' })).toEqual(['j6', 'j5', 'j2', 'j1']);
      expect(await ids({ provider: 'nobody' })).toEqual([]);
      expect(await ids({ since: T0 + 50 })).toEqual(['j7', 'j6', 'j5']);
      expect(await ids({ until: T0 + 30 })).toEqual(['j2', 'j1']);
      expect(await ids({ since: T0 + 20, until: T0 + 60 })).toEqual(['j5', 'j4', 'j3', 'j2']);
      expect(await ids({ provider: 'bolt', status: 'running', since: T0 + 30, until: T0 + 31 })).toEqual(['j3']);
      expect(await ids({ provider: 'acme', status: 'running', since: T0 + 30 })).toEqual([]);
    });

    it('clamps the page size to 1..100', async () => {
      for (let i = 0; i < 102; i++) {
        await ref.store.insertJob(makeJob({ id: `job_${String(i).padStart(3, '0')}`, createdAt: T0 + i }));
      }
      const big = await ref.store.listJobs({ limit: 500 });
      expect(big.jobs).toHaveLength(100);
      expect(big.nextCursor).toBeDefined();
      const zero = await ref.store.listJobs({ limit: 0 });
      expect(zero.jobs.map((j) => j.id)).toEqual(['job_101']);
      expect(zero.nextCursor).toBeDefined();
      const negative = await ref.store.listJobs({ limit: -5 });
      expect(negative.jobs).toHaveLength(1);
    });

    it('paginates across 3 pages with no duplicates or gaps, even with equal timestamps', async () => {
      const inserted: JobRecord[] = [];
      for (let i = 0; i < 25; i++) {
        // groups of 3 share a createdAt, so page boundaries fall inside ties
        const job = makeJob({ id: `job_${String(i).padStart(2, '0')}`, createdAt: T0 + Math.floor(i / 3) });
        inserted.push(job);
      }
      for (const job of [...inserted].reverse()) await ref.store.insertJob(job);
      const { pages } = await allPages(ref.store, { limit: 10 });
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      const seen = pages.flat().map((j) => j.id);
      const expected = [...inserted]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map((j) => j.id);
      expect(seen).toEqual(expected);
      expect(new Set(seen).size).toBe(25);
    });

    it('gives no nextCursor when the last page is exactly full', async () => {
      for (let i = 0; i < 20; i++) await ref.store.insertJob(makeJob({ id: `job_${i}`, createdAt: T0 + i }));
      const { pages } = await allPages(ref.store, { limit: 10 });
      expect(pages.map((p) => p.length)).toEqual([10, 10]);
    });

    it('paginates a filtered list', async () => {
      for (let i = 0; i < 30; i++) {
        await ref.store.insertJob(
          makeJob({
            id: `job_${String(i).padStart(2, '0')}`,
            provider: i % 2 === 0 ? 'acme' : 'bolt',
            createdAt: T0 + i,
          }),
        );
      }
      const { pages } = await allPages(ref.store, { limit: 4, provider: 'bolt', since: T0 + 5 });
      const ids = pages.flat().map((j) => j.id);
      expect(ids).toEqual(
        ['29', '27', '25', '23', '21', '19', '17', '15', '13', '11', '09', '07', '05'].map((n) => `job_${n}`),
      );
      expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 1]);
    });

    it("rejects a malformed cursor with 'bad cursor'", async () => {
      await ref.store.insertJob(makeJob({ id: 'job_1' }));
      const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
      for (const cursor of [
        'not a cursor!',
        '',
        b64('not json'),
        b64('[]'),
        b64('{"x":1}'),
        b64('null'),
        b64('{"c":"1","i":2}'),
        // Not a creation time: PostgreSQL would fail on them (22P02, 22003) rather than refuse them.
        b64('{"c":1.5,"i":"job_1"}'),
        b64('{"c":1e300,"i":"job_1"}'),
        b64('{"c":9007199254740993,"i":"job_1"}'),
      ]) {
        await expect(ref.store.listJobs({ limit: 10, cursor }), cursor).rejects.toThrow(/^bad cursor/);
      }
    });
  });
}
