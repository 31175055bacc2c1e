/**
 * What counts as a PostgreSQL outage: the driver's own errors for a refused connection and for a client
 * used after its connection failed, and Node's network codes (host or network unreachable, DNS try-again).
 * A wrong query is none.
 */
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isConnectionError } from '../../src/store/outage.js';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('isConnectionError', () => {
  it('a refused connection and a client used after it (pg), and the not-queryable client', async () => {
    const c = new pg.Client({ connectionString: `postgres://x@127.0.0.1:${await closedPort()}/x` });
    const refused = await c.connect().catch((e: unknown) => e);
    expect(isConnectionError(refused)).toBe(true);
    const after = await c.query('SELECT 1').catch((e: unknown) => e);
    expect(isConnectionError(after)).toBe(true);
    // pg's client after a connection error (client.js throws a plain Error with no code).
    expect(isConnectionError(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
  });

  it.each(['EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'ENOTFOUND'])('%s is an outage', (code) => {
    expect(isConnectionError(Object.assign(new Error(`connect ${code} db:5432`), { code }))).toBe(true);
  });

  it('a bad statement or a constraint is none', () => {
    expect(isConnectionError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});

describe('which Store methods only read (a SQLite outage ends on the next write that passes)', () => {
  it('every method of the SQLite store is classified, and the writes are exactly these', async () => {
    const { SqliteStore } = await import('../../src/store/sqlite.js');
    const { READS } = await import('../../src/store/outage.js');
    const methods = Object.getOwnPropertyNames(SqliteStore.prototype).filter(
      (m) =>
        m !== 'constructor' &&
        m !== 'stmt' && // the store's own statement cache, not a Store method
        typeof Object.getOwnPropertyDescriptor(SqliteStore.prototype, m)?.value === 'function',
    );
    const writes = methods.filter((m) => !READS.test(m)).sort();
    // A new Store method lands here until it is named a read (READS) or added to this list of writes.
    expect(writes).toEqual(
      [
        'bindApprovalReservation',
        'bindIdempotencyReservation',
        'claimIdempotency',
        'close',
        'commit',
        'consumeToken',
        'declineApproval',
        'dropIdempotency',
        'insertJob',
        'leaseDueJobs',
        'markIdempotencyUnknown',
        'markUncertain',
        'pokeJob',
        'purge',
        'putApproval',
        'putToken',
        'recordObservation',
        'refund',
        'release',
        'releaseLease',
        'renewLease',
        'reserve',
        'returnApproval',
        'returnApprovalToken',
        'returnToken',
        'settleIdempotency',
        'settleIdempotencyByReservation',
        'supersedeApprovals',
        'takeApproval',
        'takeRateSlot',
        'takeWebhook',
        'updateJob',
        'useApprovalToken',
      ].sort(),
    );
  });
});
