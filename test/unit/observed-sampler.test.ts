/** PriceSampler: when it records an observed price, and that a balance read failure never matters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Operation } from '../../src/catalogue/format.js';
import { PriceSampler, observedText, priceKey } from '../../src/guard/observed.js';
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

function sampler(balances: (number | Error | undefined)[]) {
  return new PriceSampler({
    store,
    logger: createLogger('error'),
    now: () => Date.UTC(2026, 10, 27),
    balance: async () => {
      const v = balances.shift();
      if (v instanceof Error) throw v;
      return v;
    },
  });
}
const sample = { tool: 'acme_video', op, args: { prompt: 'x', duration: 5, resolution: '720p', image: 'u' } };

describe('price key and text', () => {
  it('keeps enum, number and boolean arguments, sorted; drops prompts and URLs', () => {
    expect(priceKey(op, sample.args)).toBe('{"duration":5,"resolution":"720p"}');
  });
  it('reads like the issue asks', () => {
    expect(observedText({ latest: 12, max: 15, count: 3, latestAt: Date.UTC(2026, 10, 27) }, 'credits')).toBe(
      'last observed 12 credits (3 observations, latest 2026-11-27)',
    );
  });
});

describe('PriceSampler', () => {
  it('records before − after for a lone successful job', async () => {
    const s = sampler([100, 88]);
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

  it('records nothing when another call of the provider started or was open, or the job failed', async () => {
    const s = sampler([100, 90, 80, 70]);
    await s.begin('a', 'acme', sample);
    await s.begin('b', 'acme', undefined); // a priced call of the same provider
    await s.finish('b', 'acme', true);
    await s.finish('a', 'acme', true);
    const t = sampler([100, 90]);
    await t.begin('c', 'acme', undefined);
    await t.begin('d', 'acme', sample); // not alone: no balance read
    await t.finish('c', 'acme', true);
    await t.finish('d', 'acme', true);
    const u = sampler([100, 90]);
    await u.begin('e', 'acme', sample);
    await u.finish('e', 'acme', false);
    expect(await store.listObservations()).toEqual([]);
    // Another provider does not count as overlap.
    const v = sampler([100, 95]);
    await v.begin('f', 'acme', sample);
    await v.begin('g', 'other', undefined);
    await v.finish('f', 'acme', true);
    expect((await store.listObservations()).map((o) => o.credits)).toEqual([5]);
  });
});
