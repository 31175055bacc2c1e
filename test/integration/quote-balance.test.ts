/**
 * Quotes do not spend the rate limit paid creates need: the balance a quote shows is read once for many
 * concurrent quotes and kept briefly, and it is skipped (said so) when the shared limit is short. The
 * shared limit is filled the way another process would fill it: starts counted in the same store bucket.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { backgroundLimit, rateBucket } from '../../src/providers/rate-limit.js';
import { BALANCE_BUSY } from '../../src/tools/balance.js';
import { callTool, sandboxed, type Sandboxed } from '../helpers/sandboxed.js';
import { text } from '../helpers/stdio.js';

const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const QUOTE = { tool: 'phaya_seedance', arguments: { prompt: 'a lantern at dusk' } };
let s: Sandboxed | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const balanceReads = (x: Sandboxed) =>
  x.sandbox.stats().requests.filter((r) => r.provider === 'phaya' && r.path.split('?')[0].endsWith('/user/credits'))
    .length;

/** Count `n` starts of Phaya's key in the store, as other processes sharing it would. */
async function fill(x: Sandboxed, n: number, limit: number, windowMs: number): Promise<void> {
  const bucket = rateBucket('phaya', x.sandbox.key);
  for (let i = 0; i < n; i++)
    expect(await x.app.store.takeRateSlot({ bucket, limit, windowMs, now: Date.now() })).toBe(0);
}

describe('the balance a quote shows', () => {
  it('70 concurrent quotes over one client: every one answers, with one balance read between them', async () => {
    s = await sandboxed([]);
    const results = await Promise.all(Array.from({ length: 70 }, () => callTool(s!.client, 'quote', QUOTE)));
    for (const r of results) {
      expect(r.isError, text(r)).toBeFalsy();
      expect(sc(r).balance).toMatch(/credits$/);
    }
    expect(balanceReads(s)).toBe(1);
    // Kept briefly: a later quote shows it again without a request.
    expect(sc(await callTool(s.client, 'quote', QUOTE)).balance).toMatch(/credits$/);
    expect(balanceReads(s)).toBe(1);
  });

  it("is skipped, and said so, when Phaya's shared limit (the catalogue's 60 a minute) has no background room", async () => {
    s = await sandboxed([]);
    // The catalogue's limit applies: 60 per 60 s, so background-priority reads stop at 45 starts.
    expect(backgroundLimit(60)).toBe(45);
    await fill(s, 45, 60, 60_000);
    const r = await callTool(s.client, 'quote', QUOTE);
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ balance: null, balance_note: BALANCE_BUSY });
    expect(text(r)).toContain(`phaya ${BALANCE_BUSY}.`);
    expect(balanceReads(s)).toBe(0);
    // The price, consent and caps are all still there.
    expect(sc(r).price).toMatchObject({ credits: expect.any(Number) });
  });

  it('is read when the shared limit still has room (44 of the 45 background starts taken)', async () => {
    s = await sandboxed([]);
    await fill(s, 44, 60, 60_000);
    const r = await callTool(s.client, 'quote', QUOTE);
    expect(sc(r).balance).toMatch(/credits$/);
    expect(balanceReads(s)).toBe(1);
  });

  it('follows --rate-limit: phaya=10/60 leaves 8 background starts a window', async () => {
    s = await sandboxed(['--rate-limit', 'phaya=10/60']);
    await fill(s, 8, 10, 60_000);
    const r = await callTool(s.client, 'quote', QUOTE);
    expect(sc(r).balance_note).toBe(BALANCE_BUSY);
    expect(balanceReads(s)).toBe(0);
  });
});
