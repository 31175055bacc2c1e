/** The same Store contract suite as SQLite, against a real PostgreSQL server; then what only PostgreSQL has. */
import { describe, expect, it } from 'vitest';
import { PgStore } from '../../src/store/postgres.js';
import { PG_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { DATABASE_URL, dropSchemas, freshSchema, HAS_PG, requirePg } from '../helpers/pg.js';
import { storeContract } from './contract.js';
import { makeReserve } from './contract-fixtures.js';

requirePg('PostgreSQL store');
const schemas: string[] = [];
const open = (schema = freshSchema()): Promise<PgStore> => {
  schemas.push(schema);
  return PgStore.open(DATABASE_URL ?? '', { schema });
};

if (HAS_PG) {
  storeContract(
    'postgres',
    () => open(),
    () => dropSchemas(schemas),
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
      expect(err?.message).toMatch(/shared store \(PostgreSQL\) is unreachable/);
      expect((await admin.recentSpend(10)).map((r) => r.id)).not.toContain('lost-1');
      // The pool replaced the dead connection.
      expect((await store.reserve(makeReserve({ id: 'after-1' }))).ok).toBe(true);
      await Promise.all([store.close(), admin.close()]);
      await expect(PgStore.open('postgres://postgres@127.0.0.1:1/none')).rejects.toThrow(/ECONNREFUSED|connect/);
      await dropSchemas(schemas);
    });
  });
}
