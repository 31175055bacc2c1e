/** PriceSampler: when it records an observed price, and that a balance read failure never matters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Operation } from '../../src/catalogue/format.js';
import { PriceSampler, observedText, priceKey } from '../../src/guard/observed.js';
import { ABSURD_CREDITS, capReserve, figuresOf, strictAmount } from '../../src/guard/observed-figures.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

const op = {
  params: [
    { name: 'prompt', type: 'string' },
    { name: 'duration', type: 'integer' },
    { name: 'resolution', type: 'string', enum: ['720p', '1080p'] },
    { name: 'image', type: 'string', format: 'url' },
  ],
} as unknown as Operation;

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mediagen-sampler-'));
  store = await openStore({ stateDir: dir });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = Date.UTC(2026, 10, 27);
let clock = T;

function sampler(balances: (unknown | Error)[]) {
  return new PriceSampler({
    store,
    logger: createLogger('error'),
    now: () => clock,
    balance: async () => {
      const v = balances.shift();
      if (v instanceof Error) throw v;
      return v;
    },
  });
}
const sample = { tool: 'acme_video', op, args: { prompt: 'x', duration: 5, resolution: '720p', image: 'u' } };

/** A paid call's reservation, as the money path writes it before the sampler's first read. */
async function reserve(id: string, principal = 'alice', provider = 'acme'): Promise<void> {
  const r = await store.reserve({
    id,
    provider,
    tool: 'acme_video',
    callerId: `${principal}-session`,
    principal,
    day: '2026-11-27',
    credits: 0,
    argsHash: 'h',
    now: clock,
  });
  expect(r.ok).toBe(true);
}

describe('price key and text', () => {
  it('keeps enum, number and boolean arguments, sorted; drops prompts and URLs', () => {
    expect(priceKey(op, sample.args)).toBe('{"duration":5,"resolution":"720p"}');
  });
  it('reads like the issue asks', () => {
    expect(
      observedText(
        { latest: 12, max: 15, count: 3, latestAt: Date.UTC(2026, 10, 27), recent: [12, 15, 11] },
        'credits',
      ),
    ).toBe('last observed 12 credits (3 observations, latest 2026-11-27)');
  });
});

describe('amounts from a provider are plain decimals or nothing', () => {
  it('reads JSON numbers and decimal strings', () => {
    expect(strictAmount(100)).toBe(100);
    expect(strictAmount('100')).toBe(100);
    expect(strictAmount('12.5')).toBe(12.5);
    expect(strictAmount('0')).toBe(0);
    expect(strictAmount(0.25)).toBe(0.25);
  });
  it('discards hex, exponents, signs, blanks, leading zeros, NaN, Infinity, negatives and absurd values', () => {
    for (const v of ['0x64', '0X64', '1e2', '+5', '-5', ' 5', '5 ', '', '007', '.5', '5.', 'NaN', 'Infinity', '1_000'])
      expect(strictAmount(v), v).toBeUndefined();
    for (const v of [NaN, Infinity, -Infinity, -1, 1e13, null, true, [5], { credits: 5 }, undefined])
      expect(strictAmount(v), String(v)).toBeUndefined();
    expect(strictAmount(150_000, ABSURD_CREDITS)).toBeUndefined();
  });
});

describe('what observations stand for', () => {
  it('never trusts one or two observations for consent; the cap reserves the highest', () => {
    expect(figuresOf([0.5])).toMatchObject({ highest: 0.5, trusted: undefined });
    expect(figuresOf([12, 0.5])).toMatchObject({ highest: 12, trusted: undefined });
    expect(figuresOf([12, 11, 12])).toMatchObject({ highest: 12, trusted: 12, outliers: 0 });
  });
  it('sets aside an observation far from the median of the others (high or low)', () => {
    expect(figuresOf([99_999.5, 5, 5, 6])).toMatchObject({ kept: [5, 5, 6], highest: 6, trusted: 6, outliers: 1 });
    expect(figuresOf([0.5, 12, 12, 12])).toMatchObject({ kept: [12, 12, 12], trusted: 12, outliers: 1 });
    // A price that really rose: once the new figure is the majority, the old one is the outlier.
    expect(figuresOf([40, 40, 40, 10, 10])).toMatchObject({ kept: [40, 40, 40, 10, 10], highest: 40 });
    expect(figuresOf([80, 80, 80, 10, 10])).toMatchObject({ kept: [80, 80, 80], highest: 80 });
  });
  it('trusts nothing when every observation disagrees; the cap then reserves the highest of all', () => {
    expect(figuresOf([1, 100, 10_000])).toMatchObject({ kept: [], highest: 10_000, trusted: undefined });
  });
  it('under a cap, fewer than 3 observations never reserve less than --unknown-price-reserve', () => {
    const seen = (recent: number[]) => ({
      latest: recent[0],
      max: Math.max(...recent),
      count: recent.length,
      latestAt: T,
      recent,
    });
    expect(capReserve(undefined, 10)).toBeUndefined();
    expect(capReserve(seen([0.5]), 10)).toBe(10);
    expect(capReserve(seen([0.5]), undefined)).toBe(0.5);
    expect(capReserve(seen([12, 12, 12]), 20)).toBe(12);
    expect(capReserve(seen([99_999.5, 12, 12, 12]), undefined)).toBe(12);
  });
});

describe('PriceSampler', () => {
  beforeEach(() => {
    clock = T;
  });

  it('records before − after for a lone successful job', async () => {
    const s = sampler([100, 88]);
    await reserve('j1');
    await s.begin('j1', 'acme', sample);
    await s.finish('j1', 'acme', true);
    expect(await store.observedPrice('acme_video', priceKey(op, sample.args))).toMatchObject({ latest: 12, count: 1 });
  });

  it('records nothing when a balance read fails, and never throws', async () => {
    const s = sampler([new Error('down'), 88]);
    await expect(s.begin('j1', 'acme', sample)).resolves.toBeUndefined();
    await expect(s.finish('j1', 'acme', true)).resolves.toBeUndefined();
    const t = sampler([100, new Error('down')]);
    await t.begin('j2', 'acme', sample);
    await expect(t.finish('j2', 'acme', true)).resolves.toBeUndefined();
    expect(await store.listObservations()).toEqual([]);
  });

  it('reads no balance that is not a plain decimal ("0x64" is not 100)', async () => {
    for (const [before, after] of [
      ['0x3e8', '0x64'],
      [1000, '0x64'],
      ['1e3', 900],
      [1000, -5],
      [Infinity, 5],
      [1000, ' 900'],
    ]) {
      const s = sampler([before, after]);
      await s.begin('j', 'acme', sample);
      await s.finish('j', 'acme', true);
    }
    expect(await store.listObservations()).toEqual([]);
    const ok = sampler(['1000', 988]);
    await ok.begin('k', 'acme', sample);
    await ok.finish('k', 'acme', true);
    expect((await store.listObservations()).map((o) => o.credits)).toEqual([12]);
  });

  it('ignores a difference of zero or less, or an absurd one', async () => {
    for (const [before, after] of [
      [100, 100],
      [100, 150],
      [1e9, 1],
    ]) {
      const s = sampler([before, after]);
      await s.begin('j', 'acme', sample);
      await s.finish('j', 'acme', true);
    }
    expect(await store.listObservations()).toEqual([]);
  });

  it("records nothing when the store shows another principal's call of the provider in the window", async () => {
    // Two samplers (two principals' apps, or two processes) over one store.
    const alice = sampler([100, 55]);
    const bob = sampler([100, 60]);
    await reserve('a', 'alice');
    await alice.begin('a', 'acme', sample);
    await reserve('b', 'bob');
    await bob.begin('b', 'acme', sample); // not alone: no balance read at all
    await store.commit('b', 'b', clock);
    await bob.finish('b', 'acme', true);
    await alice.finish('a', 'acme', true);
    // A priced call of the provider (no sample of its own) overlaps just the same.
    const c = sampler([100, 90]);
    await reserve('c');
    await c.begin('c', 'acme', sample);
    await reserve('d', 'bob');
    await c.finish('c', 'acme', true);
    // A failed job records nothing.
    clock += 3_600_000;
    const e = sampler([100, 90]);
    await reserve('e');
    await e.begin('e', 'acme', sample);
    await e.finish('e', 'acme', false);
    expect(await store.listObservations()).toEqual([]);
  });

  it('samples again once the others settled, and another provider never counts', async () => {
    await reserve('x', 'bob');
    await store.release('x', clock);
    clock += 2_000; // past the clock margin
    await reserve('other', 'bob', 'zeta'); // open, but another provider
    const s = sampler([100, 95]);
    await reserve('f');
    await s.begin('f', 'acme', sample);
    await s.finish('f', 'acme', true);
    expect((await store.listObservations()).map((o) => o.credits)).toEqual([5]);
  });

  it('discards the sample when the store cannot say (in doubt, nothing is recorded)', async () => {
    const s = sampler([100, 95]);
    await reserve('g');
    await s.begin('g', 'acme', sample);
    await store.close();
    await expect(s.finish('g', 'acme', true)).resolves.toBeUndefined();
    store = await openStore({ stateDir: dir });
    expect(await store.listObservations()).toEqual([]);
  });
});
