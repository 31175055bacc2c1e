/**
 * spend_report's data for the spend view, through a real MCP Client over stdio, a real SQLite store and the
 * sandbox gateway: real reservations (a job that succeeds, one that fails and is refunded, one whose answer
 * is lost), then per provider the credits per UTC day for 30 days, the caps used and left as the guard
 * enforces them, each uncertain reservation with what to do, and the refunds; the caller's own only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH } from '../helpers/money.js';
import { connectHttp, spawnHttp, writeTokens } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 1 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  sandbox.reset();
});

interface Bar {
  day: string;
  committed: number;
  refunded: number;
  uncertain: number;
  reserved: number;
}
interface Chart {
  days: string[];
  providers: { provider: string; currency: string; days: Bar[]; totals: Omit<Bar, 'day'> }[];
}

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

describe('spend_report per day, for the spend view', () => {
  it('charts 30 UTC days per provider, caps used and left, uncertain reservations with what to do, refunds', async () => {
    const s = await spawnStdio(phayaEnv(sandbox, { MEDIAGEN_HTTP_TIMEOUT_MS: '4000' }), [
      '--cap-day',
      'phaya=20',
      '--cap-session',
      'phaya=15',
    ]);
    servers.push(s);
    const ok = await s.call(T2I, { prompt: 'a lantern' });
    expect(ok.isError, text(ok)).toBeFalsy();
    const bad = await s.call(T2I, { prompt: 'a kite sandbox:fail' });
    expect(bad.isError, text(bad)).toBeFalsy();
    for (const job of [ok, bad]) await s.call('jobs_wait', { job_id: sc(job).job_id, wait_seconds: 20 });
    const lost = await s.call(T2I, { prompt: 'a boat sandbox:5xx', idempotency_key: 'spend-view-lost-01' });
    expect(sc(lost).code, text(lost)).toBe('OUTCOME_UNKNOWN');
    expect(hits(sandbox, T2I_PATH)).toBe(3);

    const before = Date.now();
    const report = await s.call('spend_report');
    const after = Date.now();
    expect(report.isError, text(report)).toBeFalsy();
    const chart = sc(report).chart as Chart;
    expect(chart.days).toHaveLength(30);
    // The report's own today, which must lie between the UTC days of the moments around the call.
    const day = chart.days.at(-1) ?? '';
    expect(day >= utcDay(before) && day <= utcDay(after), `${day} in ${utcDay(before)}..${utcDay(after)}`).toBe(true);
    expect(chart.days[0]).toBe(utcDay(Date.parse(`${day}T00:00:00Z`) - 29 * 86_400_000));
    expect(sc(report).chart).toMatchObject({ basis: 'reservation day' });
    const phaya = chart.providers.find((p) => p.provider === 'phaya');
    expect(phaya?.currency).toBe('credits');
    expect(phaya?.days).toHaveLength(30);
    expect(phaya?.days.at(-1)).toEqual({ day, committed: 1, refunded: 1, uncertain: 1, reserved: 0 });
    expect(phaya?.days.slice(0, -1).every((b) => b.committed + b.refunded + b.uncertain + b.reserved === 0)).toBe(true);
    expect(phaya?.totals).toEqual({ committed: 1, refunded: 1, uncertain: 1, reserved: 0 });

    // The caps are the guard's own figures: committed + reserved + uncertain, refunds given back.
    const rows = sc(report).providers as { provider: string; caps: Record<string, unknown> }[];
    expect(rows.find((r) => r.provider === 'phaya')?.caps).toEqual({
      session: { cap: 15, used: 2, left: 13 },
      day: { cap: 20, used: 2, left: 18 },
    });
    const quote = await s.call('quote', { tool: T2I, arguments: { prompt: 'a lantern' } });
    expect(sc(quote).caps).toEqual(rows.find((r) => r.provider === 'phaya')?.caps);

    const uncertain = sc(report).uncertain as Record<string, unknown>[];
    expect(uncertain).toHaveLength(1);
    expect(uncertain[0]).toMatchObject({
      reservation: sc(lost).reservation,
      tool: T2I,
      provider: 'phaya',
      credits: 1,
      state: 'uncertain',
      currency: 'credits',
    });
    expect(uncertain[0].what_to_do).toContain('check its dashboard before repeating it');
    expect(uncertain[0].what_to_do).toContain(`reservation_id ${sc(lost).reservation as string}`);

    const refunds = sc(report).refunds as Record<string, unknown>[];
    expect(refunds).toEqual([
      expect.objectContaining({ tool: T2I, provider: 'phaya', credits: 1, job_id: sc(bad).job_id }),
    ]);
    expect(Date.parse(refunds[0].refunded_at as string)).toBeGreaterThanOrEqual(
      Date.parse(refunds[0].reserved_at as string),
    );
    expect(sc(report).refunds_total).toEqual({
      days: 30,
      basis: 'refund time',
      count: 1,
      currencies: [{ currency: 'credits', count: 1, credits: 1 }],
    });

    // Clients without apps read the same in the text.
    const t = text(report);
    expect(t).toContain('Last 30 days (UTC), per day with spend, by reservation day:');
    expect(t).toContain(`${day} phaya: 1 committed, 1 refunded, 1 uncertain credits`);
    expect(t).toContain('Refunded in the last 30 days, by refund time: 1 reservation (1 credits)');
    expect(t).toContain(`${T2I} 1 credits refunded ${sc(bad).job_id as string}`);
    expect(t).toContain('jobs_track with the tool, the provider job id and the reservation id');
    expect(t).toMatch(/session cap|phaya: 1 committed, 1 uncertain, 1 refunded/);
  });

  it('is per principal: over HTTP another principal of the same store sees none of it', async () => {
    const dir = tempDir();
    const t = writeTokens(dir, { alice: {}, bob: {} });
    const server = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir }), ['--tokens-file', t.file]);
    const alice = await connectHttp(server.url, t.tokens.alice);
    const bob = await connectHttp(server.url, t.tokens.bob);
    try {
      const bad = await alice.call(T2I, { prompt: 'a kite sandbox:fail' });
      expect(bad.isError, text(bad)).toBeFalsy();
      await alice.call('jobs_wait', { job_id: sc(bad).job_id, wait_seconds: 20 });
      const mine = sc(await alice.call('spend_report'));
      expect((mine.chart as Chart).providers.map((p) => [p.provider, p.totals.refunded])).toEqual([['phaya', 1]]);
      expect(mine.refunds).toHaveLength(1);
      const other = await bob.call('spend_report');
      expect(sc(other)).toMatchObject({ chart: { providers: [] }, refunds: [], uncertain: [] });
      expect((sc(other).chart as Chart).days).toHaveLength(30);
      expect(sc(other).refunds_total).toEqual({ days: 30, basis: 'refund time', count: 0, currencies: [] });
      expect(text(other)).not.toContain('Last 30 days');
      expect(text(other)).not.toContain('Refunded');
    } finally {
      await alice.close();
      await bob.close();
      await server.stop();
    }
  });
});
