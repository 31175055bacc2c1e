import { describe, expect, it } from 'vitest';
import type { PriceExpr } from '../../src/catalogue/format.js';
import { describePrice, priceCall, priceRange } from '../../src/guard/price.js';

const seedanceLike: PriceExpr = {
  table: {
    by: ['resolution', 'duration', 'generate_audio'],
    rows: { '480p|4|false': 2, '480p|4|true': 3, '1080p|12|true': 35 },
  },
};
const kling: PriceExpr = {
  perUnit: {
    unit: 'second',
    rate: { table: { by: ['mode'], rows: { '720p': 1.21, '1080p': 1.82 } } },
    upTo: { table: { by: ['character_orientation'], rows: { image: 10, video: 30 } } },
  },
};

describe('price expressions', () => {
  it.each<[string, PriceExpr, Record<string, unknown>, ReturnType<typeof priceCall>]>([
    ['fixed', { credits: 8 }, {}, { kind: 'exact', credits: 8, detail: 'fixed price' }],
    [
      'one-key table',
      { table: { by: ['model'], rows: { veo3_fast: 15, veo3: 50 } } },
      { model: 'veo3' },
      { kind: 'exact', credits: 50, detail: 'model=veo3' },
    ],
    [
      'three-key table',
      seedanceLike,
      { resolution: '480p', duration: '4', generate_audio: true },
      { kind: 'exact', credits: 3, detail: 'resolution=480p, duration=4, generate_audio=true' },
    ],
    [
      'table without the row',
      seedanceLike,
      { resolution: '720p', duration: '4', generate_audio: true },
      { kind: 'unknown', reason: 'no documented price for resolution=720p, duration=4, generate_audio=true' },
    ],
    [
      'per unit, up to (rate and bound from tables)',
      kling,
      { mode: '1080p', character_orientation: 'video' },
      { kind: 'upTo', credits: 54.6, detail: '1.82 per second, at most 30 seconds' },
    ],
    [
      'per unit, up to, float noise rounded',
      kling,
      { mode: '720p', character_orientation: 'image' },
      { kind: 'upTo', credits: 12.1, detail: '1.21 per second, at most 10 seconds' },
    ],
    [
      'per unit with a known count and a minimum',
      { perUnit: { unit: 'minute', rate: 0.17, param: 'minutes', minimum: 0.07 } },
      { minutes: 3 },
      { kind: 'exact', credits: 0.51, detail: '0.17 per minute × 3' },
    ],
    [
      'per unit, minimum applies',
      { perUnit: { unit: 'minute', rate: 0.17, param: 'minutes', minimum: 0.07 } },
      { minutes: 0.1 },
      { kind: 'exact', credits: 0.07, detail: '0.17 per minute × 0.1' },
    ],
    [
      'per unit, count only known afterwards',
      { perUnit: { unit: '10 MB', rate: 0.5 } },
      {},
      { kind: 'unknown', reason: '0.5 credits per 10 MB; the count is known only after the call' },
    ],
    ['unknown', { unknown: 'token-billed' }, {}, { kind: 'unknown', reason: 'token-billed' }],
  ])('%s', (_name, expr, args, expected) => {
    expect(priceCall(expr, args)).toEqual(expected);
  });

  it('summarises prices for tool descriptions', () => {
    expect(describePrice({ credits: 1 })).toBe('1 credit');
    expect(describePrice({ table: { by: ['model'], rows: { veo3_fast: 15, veo3: 50 } } })).toBe(
      '15 credits (veo3_fast) or 50 (veo3)',
    );
    expect(describePrice({ table: { by: ['r'], rows: { '1K': 2, '2K': 3, '4K': 4 } } })).toBe(
      '2 credits (1K), 3 (2K) or 4 (4K)',
    );
    expect(describePrice(seedanceLike)).toBe('2–35 credits by resolution × duration × generate_audio');
    expect(describePrice(kling)).toBe('1.21–1.82 credits per second, up to 54.6');
    expect(describePrice({ perUnit: { unit: 'minute', rate: 0.17, minimum: 0.07 } })).toBe(
      '0.17 credits per minute, minimum 0.07',
    );
    expect(describePrice({ unknown: 'x' })).toBe('unknown');
  });

  it('reads naturally: singular for one, thousands separators in amounts and units', () => {
    expect(describePrice({ perUnit: { unit: '1000 characters', rate: 1 } })).toBe('1 credit per 1,000 characters');
    expect(describePrice({ credits: 1 }, 'credits (THB)')).toBe('1 credit (THB)');
    expect(describePrice({ credits: 1500 })).toBe('1,500 credits');
    expect(describePrice({ credits: 0.5 })).toBe('0.5 credits');
    expect(describePrice({ table: { by: ['r'], rows: { a: 1, b: 2 } } })).toBe('1 credit (a) or 2 (b)');
    expect(describePrice({ table: { by: ['r', 's'], rows: { 'a|x': 1, 'b|x': 1 } } })).toBe('1 credit by r × s');
    expect(priceCall({ perUnit: { unit: '1000 characters', rate: 1 } }, {})).toMatchObject({
      reason: '1 credit per 1,000 characters; the count is known only after the call',
    });
    expect(priceCall({ perUnit: { unit: '10 MB', rate: 0.5, upTo: 3 } }, {})).toMatchObject({
      detail: '0.5 per 10 MB, at most 3 × 10 MB',
    });
  });

  it('knows the range of each kind', () => {
    expect(priceRange(seedanceLike)).toEqual({ min: 2, max: 35 });
    expect(priceRange(kling)).toEqual({ min: 0, max: 54.6 });
    expect(priceRange({ unknown: 'x' })).toBeUndefined();
  });
});
