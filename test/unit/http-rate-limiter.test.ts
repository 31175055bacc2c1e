/**
 * The token buckets behind --http-rate and --http-auth-fail-rate, through the real limiter with a clock of
 * the test's own: the number of buckets is bounded (new keys past the bound share one overflow bucket,
 * which limits rather than lets through), and a full prune runs at most once a second.
 */
import { describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/transports/http-guard.js';

describe('HTTP rate limiter under many client addresses', () => {
  it('holds at most maxKeys buckets; addresses past the bound share one overflow bucket and are limited', () => {
    const now = 0;
    const limiter = new RateLimiter(1, 60, () => now, 1_000);
    const answers = Array.from({ length: 5_000 }, (_, i) => limiter.take(`10.0.${Math.floor(i / 256)}.${i % 256}`));
    expect(limiter.size).toBeLessThanOrEqual(1_001);
    // The first 1000 addresses each had their own token, the first past the bound the overflow's one.
    expect(answers.slice(0, 1_001).every((w) => w === 0)).toBe(true);
    expect(answers.slice(1_001).every((w) => w >= 1)).toBe(true);
    // A new address is limited as the overflow bucket is (it erred on the side of limiting).
    expect(limiter.wait('192.0.2.1')).toBeGreaterThanOrEqual(1);
    expect(limiter.take('192.0.2.1')).toBeGreaterThanOrEqual(1);
  });

  it('prunes at most once a second while at the bound, and a prune after the window makes room again', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 60, () => now, 1_000);
    const prune = vi.spyOn(limiter, 'prune');
    for (let i = 0; i < 20_000; i++) limiter.take(`a${i}`);
    expect(prune.mock.calls.length).toBeLessThanOrEqual(1);
    now = 1_000;
    for (let i = 0; i < 1_000; i++) limiter.take(`b${i}`);
    expect(prune.mock.calls.length).toBeLessThanOrEqual(2);
    expect(limiter.take('c')).toBeGreaterThanOrEqual(1); // nothing refilled yet: still the overflow
    now = 61_000; // every bucket has refilled: a prune forgets them and a new address has its own again
    expect(limiter.take('d')).toBe(0);
    expect(limiter.take('e')).toBe(0);
    expect(limiter.size).toBeLessThanOrEqual(3);
  });
});
