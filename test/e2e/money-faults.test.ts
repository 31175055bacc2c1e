/**
 * Exact under faults (DESIGN §5.7–8): a paid request whose answer is lost, late, cut off or a 5xx never
 * leads to a second charge, and what is known is recorded. Real stdio server, real sandbox gateway on
 * loopback, the sandbox's own request counter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH, totals, until } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ slowMs: 1500 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  sandbox.reset();
});

async function serve(extra: Record<string, string> = {}): Promise<StdioServer> {
  const s = await spawnStdio(phayaEnv(sandbox, { MEDIAGEN_HTTP_TIMEOUT_MS: '4000', ...extra }));
  servers.push(s);
  return s;
}

describe('a create whose caller leaves before the provider answers', () => {
  it('is still recorded: the retry with the same idempotency_key gets that job, and one provider request was made', async () => {
    const s = await serve();
    const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'cancelled-call-0001' };
    const abort = new AbortController();
    const first = s.client.callTool({ name: T2I, arguments: args }, undefined, { signal: abort.signal });
    await until(() => hits(sandbox, T2I_PATH) === 1);
    abort.abort(); // notifications/cancelled, 1.5 s before the provider answers
    await expect(first).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 2_000));
    const again = await s.call(T2I, args);
    expect(again.isError, text(again)).toBeFalsy();
    expect(sc(again).reused).toBe(true);
    expect(hits(sandbox, T2I_PATH)).toBe(1);
    const report = await s.call('spend_report');
    expect(totals(report, 'phaya')).toMatchObject({ committed: 1, uncertain: 0, reserved: 0 });
  });
});

describe('ambiguous answers are OUTCOME_UNKNOWN, never a refusal', () => {
  it.each([
    ['a 2xx body cut off half-way', 'sandbox:cutoff', /could not be read/],
    ['a 502 from a gateway after the provider accepted', 'sandbox:lost', /HTTP 502/],
    ['a 503', 'sandbox:5xx', /HTTP 503/],
  ])('%s: reservation kept uncertain, key kept bound, no second request', async (_what, marker, cause) => {
    const s = await serve();
    const args = { prompt: `a lantern ${marker}`, idempotency_key: `ambiguous-${marker.slice(8)}-01` };
    const r = await s.call(T2I, args);
    expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
    expect(text(r)).toMatch(cause);
    expect(sc(r)).toMatchObject({ idempotency_key: args.idempotency_key, provider: 'phaya' });
    const retry = await s.call(T2I, args);
    expect(sc(retry).code).toBe('OUTCOME_UNKNOWN');
    expect(sc(retry).reservation).toBe(sc(r).reservation);
    expect(hits(sandbox, T2I_PATH)).toBe(1);
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ committed: 0, uncertain: 1, released: 0 });
  });

  it('a timeout is unknown too', async () => {
    const s = await serve({ MEDIAGEN_HTTP_TIMEOUT_MS: '700' });
    const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'timed-out-call-01' };
    const r = await s.call(T2I, args);
    expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
    expect(text(r)).toMatch(/did not answer in time/);
    expect(sc(await s.call(T2I, args)).code).toBe('OUTCOME_UNKNOWN');
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });

  it('a clear refusal (4xx) releases the reservation and frees the key', async () => {
    const s = await serve();
    const args = { prompt: 'a lantern sandbox:badparams', idempotency_key: 'refused-call-0001' };
    const r = await s.call(T2I, args);
    expect(sc(r).code, text(r)).toBe('PROVIDER_REJECTED');
    expect(sc(await s.call(T2I, args)).code).toBe('PROVIDER_REJECTED');
    expect(hits(sandbox, T2I_PATH)).toBe(2); // the key was freed, so the repeat was sent
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ committed: 0, uncertain: 0, released: 2 });
  });
});

describe('duplicates of a call still in flight', () => {
  it('twenty concurrent calls with one key: one provider request, every caller gets the same job', async () => {
    const s = await serve();
    const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'twenty-at-once-01' };
    const results = await Promise.all(Array.from({ length: 20 }, () => s.call(T2I, args)));
    const ids = new Set(results.map((r) => sc(r).job_id ?? sc(r).code));
    expect(
      [...ids].every((id) => typeof id === 'string' && id.startsWith('job_')),
      [...ids].join(),
    ).toBe(true);
    expect(ids.size).toBe(1);
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });

  it('says IN_PROGRESS (not "unknown") while the first call is still waiting for the provider', async () => {
    const slow = await startSandbox({ slowMs: 6_000 });
    try {
      const s = await spawnStdio(phayaEnv(slow, { MEDIAGEN_HTTP_TIMEOUT_MS: '10000' }));
      servers.push(s);
      const args = { prompt: 'a lantern sandbox:late', idempotency_key: 'still-in-flight-01' };
      const first = s.call(T2I, args);
      await until(() => hits(slow, T2I_PATH) === 1);
      const dup = await s.call(T2I, args);
      expect(sc(dup).code, text(dup)).toBe('IN_PROGRESS');
      expect(text(dup)).toMatch(/still in flight/);
      const done = await first;
      expect(done.isError, text(done)).toBeFalsy();
      const later = await s.call(T2I, args);
      expect(sc(later).reused).toBe(true);
      expect(hits(slow, T2I_PATH)).toBe(1);
    } finally {
      await slow.close();
    }
  });
});
