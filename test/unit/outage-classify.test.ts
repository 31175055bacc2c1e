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
