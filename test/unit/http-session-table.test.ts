/**
 * The table of HTTP sessions, through the real class with a clock of the test's own: a refusal's
 * Retry-After is computed over any number of open sessions (no spread into Math.min, which throws
 * RangeError past some 100,000 arguments), and sessions with a request in flight never idle out.
 */
import { describe, expect, it } from 'vitest';
import { SessionTable, type SessionEntry } from '../../src/transports/http-limits.js';

describe('HTTP session table', () => {
  it('refuses the next session past 200,000 open with a Retry-After, not a RangeError', () => {
    let now = 0;
    const n = 200_000;
    const table = new SessionTable<SessionEntry>({ max: n, perPrincipal: n, idleMs: 60_000 }, () => now);
    for (let i = 0; i < n; i++) {
      const place = table.reserve(i % 2 ? 'alice' : 'bob');
      if (!place.ok) throw new Error(`refused at ${i}`);
      table.add(`s${i}`, { principal: i % 2 ? 'alice' : 'bob', lastSeen: now, inflight: 0 }, place);
    }
    now = 30_000;
    const over = table.reserve('carol');
    expect(over).toMatchObject({ ok: false, status: 503, retryAfter: 30 });
    const own = new SessionTable<SessionEntry>({ max: n + 1, perPrincipal: n, idleMs: 60_000 }, () => now);
    for (let i = 0; i < n; i++) {
      const place = own.reserve('alice');
      if (!place.ok) throw new Error(`refused at ${i}`);
      own.add(`s${i}`, { principal: 'alice', lastSeen: 0, inflight: 0 }, place);
    }
    expect(own.reserve('alice')).toMatchObject({ ok: false, status: 429, retryAfter: 30 });
  });

  it('a session with a request in flight is not idle; when the request ends its idle time starts', () => {
    let now = 0;
    const table = new SessionTable<SessionEntry>({ max: 10, perPrincipal: 10, idleMs: 1_000 }, () => now);
    const place = table.reserve('alice');
    if (!place.ok) throw new Error('refused');
    const s: SessionEntry = { principal: 'alice', lastSeen: 0, inflight: 0 };
    table.add('a', s, place);
    const end = table.begin(s);
    now = 10_000;
    expect(table.idle()).toEqual([]);
    end();
    end(); // once is enough
    expect(s.inflight).toBe(0);
    expect(table.idle()).toEqual([]);
    now = 11_001;
    expect(table.idle()).toEqual(['a']);
  });
});
