/** The same Store contract suite as SQLite, against a real PostgreSQL server; then what only PostgreSQL has. */
import { describe, expect, it } from 'vitest';
import { PgStore } from '../../src/store/postgres.js';
import { PG_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { DATABASE_URL, dropSchemas, freshSchema, HAS_PG, requirePg } from '../helpers/pg.js';
import { storeContract } from './contract.js';
import { makeJob, makeReserve } from './contract-fixtures.js';

requirePg('PostgreSQL store');
const schemas: string[] = [];
const open = (schema = freshSchema()): Promise<PgStore> => {
  schemas.push(schema);
  return PgStore.open(DATABASE_URL ?? '', { schema });
};

if (HAS_PG) {
  let schema = '';
  storeContract(
    'postgres',
    () => open((schema = freshSchema())),
    () => dropSchemas(schemas),
    () => PgStore.open(DATABASE_URL ?? '', { schema }),
  );

  describe('PgStore (PostgreSQL specifics)', () => {
    it('two stores migrating the same new schema at once: one applies each migration, both work', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([open(schema), open(schema)]);
      expect(a.kind).toBe('postgres');
      const r = await a.reserve(makeReserve({ credits: 1 }));
      expect(r.ok).toBe(true);
      expect((await b.recentSpend(10)).map((x) => x.id)).toEqual([r.ok ? r.reservation.id : '']);
      await Promise.all([a.close(), b.close()]);
      const c = await open(schema);
      await c.close();
      await dropSchemas(schemas);
      expect(PG_MIGRATIONS.length).toBeGreaterThan(0);
    });

    it('migration 3 opens a database that already has duplicated provider job ids: the oldest stays the job', async () => {
      const schema = freshSchema();
      schemas.push(schema);
      const pg = await import('pg');
      const c = new pg.default.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${schema}`);
        await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        for (const [i, sql] of PG_MIGRATIONS.slice(0, 2).entries()) {
          await c.query(sql);
          await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [i + 1]);
        }
        const insert = (id: string, pj: string, principal: string, at: number) =>
          c.query(
            `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal,
               status, outputs, created_at, updated_at)
             VALUES ($1, 'acme', 'acme_image', $2, 'h', '{}', NULL, 'c', $3, 'pending', '[]', $4, $4)`,
            [id, pj, principal, at],
          );
        await insert('job_b', 'pj-dup', 'bob', 10);
        await insert('job_a', 'pj-dup', 'alice', 0);
        await insert('job_c', 'pj-dup', 'alice', 10);
        await insert('job_solo', 'pj-solo', 'carol', 0);
      } finally {
        await c.end();
      }
      const store = await PgStore.open(DATABASE_URL ?? '', { schema });
      try {
        expect((await store.jobByProviderId('acme', 'pj-dup'))?.id).toBe('job_a');
        expect((await store.jobByProviderId('acme', 'pj-solo'))?.id).toBe('job_solo');
        for (const id of ['job_a', 'job_b', 'job_c']) expect((await store.getJob(id))?.providerJobId).toBe('pj-dup');
        await expect(store.insertJob(makeJob({ id: 'job_d', providerJobId: 'pj-dup' }))).rejects.toThrow();
        await expect(store.insertJob(makeJob({ id: 'job_e', providerJobId: 'pj-solo' }))).rejects.toThrow();
        await store.insertJob(makeJob({ id: 'job_f', providerJobId: 'pj-new' }));
      } finally {
        await store.close();
        await dropSchemas(schemas);
      }
    });

    it('migration 4 opens a database with open and final jobs: the open ones are due at once, the final ones never', async () => {
      const schema = freshSchema();
      schemas.push(schema);
      const pg = await import('pg');
      const c = new pg.default.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${schema}`);
        await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        for (const [i, sql] of PG_MIGRATIONS.slice(0, 3).entries()) {
          await c.query(sql);
          await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [i + 1]);
        }
        const insert = (id: string, status: string, at: number) =>
          c.query(
            `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal,
               status, outputs, created_at, updated_at)
             VALUES ($1, 'acme', 'acme_image', $1, 'h', '{}', NULL, 'c', 'local', $2, '[]', $3, $3)`,
            [id, status, at],
          );
        await insert('job_pending', 'pending', 2);
        await insert('job_running', 'running', 1);
        for (const status of ['succeeded', 'failed', 'cancelled']) await insert(`job_${status}`, status, 0);
      } finally {
        await c.end();
      }
      const store = await PgStore.open(DATABASE_URL ?? '', { schema });
      try {
        expect(await store.getJob('job_pending')).toMatchObject({ nextPollAt: 2, pollErrors: 0, webhookHash: null });
        for (const status of ['succeeded', 'failed', 'cancelled']) {
          expect((await store.getJob(`job_${status}`))?.nextPollAt).toBeNull();
        }
        expect(await store.nextDueAt()).toBe(1);
        const leased = await store.leaseDueJobs({ owner: 'w', now: 10, leaseMs: 1000, limit: 10 });
        expect(leased.map((j) => j.id)).toEqual(['job_running', 'job_pending']);
        // A row an older binary (no next_poll_at) writes during a rolling deploy is due at once.
        const old = new pg.default.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
        await old.connect();
        await old
          .query(
            `INSERT INTO jobs (id, provider, tool, provider_job_id, args_hash, args, price, caller_id, principal,
               status, outputs, created_at, updated_at)
             VALUES ('job_old', 'acme', 'acme_image', 'job_old', 'h', '{}', NULL, 'c', 'local', 'pending', '[]', 20, 20)`,
          )
          .finally(() => old.end());
        const later = await store.leaseDueJobs({ owner: 'w2', now: 30, leaseMs: 1000, limit: 10 });
        expect(later.map((j) => j.id)).toContain('job_old');
      } finally {
        await store.close();
        await dropSchemas(schemas);
      }
    });

    it('caps hold exactly across separate pools (replicas): 40 concurrent reservations against a cap of 10', async () => {
      const schema = freshSchema();
      const stores = await Promise.all([open(schema), open(schema)]);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          stores[i % 2].reserve(makeReserve({ callerId: `s${i}`, credits: 1, dayCap: 10 })),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      const totals = await stores[0].spendTotals({});
      expect(totals).toEqual([
        { provider: 'acme', committed: 0, reserved: 10, uncertain: 0, refunded: 0, released: 0 },
      ]);
      await Promise.all(stores.map((s) => s.close()));
      await dropSchemas(schemas);
    });

    it('a consent token replayed through two pools at the same instant is used once', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([open(schema), open(schema)]);
      await a.putToken({ tokenHash: 'h1', tool: 't', argsHash: 'x', callerId: 'p', expiresAt: 2e12, createdAt: 1 });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).consumeToken('h1', 't', 'x', 'p', 1000)),
      );
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'used')).toHaveLength(9);
      await Promise.all([a.close(), b.close()]);
      await dropSchemas(schemas);
    });

    it('a lost connection fails the call with one clear error, writes nothing, and the next call works', async () => {
      const app = `mg_${freshSchema()}`;
      const schema = freshSchema();
      schemas.push(schema);
      const store = await PgStore.open(DATABASE_URL ?? '', { schema, applicationName: app, max: 1 });
      const admin = await PgStore.open(DATABASE_URL ?? '', { schema });
      const pg = await import('pg');
      const c = new pg.default.Client({ connectionString: DATABASE_URL });
      await c.connect();
      // Hold the provider's reservation lock so the reserve below is mid-transaction when its connection dies.
      await c.query("SELECT pg_advisory_lock(hashtextextended('mediagen:reserve:' || $1, 0))", ['acme']);
      const pending = store.reserve(makeReserve({ id: 'lost-1' })).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      for (let i = 0; i < 50; i++) {
        const { rows } = await c.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
          [app],
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
      await c.query("SELECT pg_advisory_unlock(hashtextextended('mediagen:reserve:' || $1, 0))", ['acme']);
      await c.end();
      const err = await pending;
      expect(err?.message).toMatch(/shared store \(PostgreSQL\) is unavailable/);
      expect((err as { code?: string }).code).toBe('STORE_UNAVAILABLE');
      expect((await admin.recentSpend(10)).map((r) => r.id)).not.toContain('lost-1');
      // The pool replaced the dead connection.
      expect((await store.reserve(makeReserve({ id: 'after-1' }))).ok).toBe(true);
      await Promise.all([store.close(), admin.close()]);
      await expect(PgStore.open('postgres://postgres@127.0.0.1:1/none')).rejects.toThrow(/ECONNREFUSED|connect/);
      await dropSchemas(schemas);
    });
  });
}
