import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { RateLimiter, RateLimits } from '../../src/providers/rate-limit.js';
import { buildRegistry } from '../../src/tools/registry.js';
import { tempDir } from '../helpers/in-memory.js';

describe('per-provider rate limiter (sliding window)', () => {
  it('lets N requests start per window and makes the next wait for the oldest to leave it', async () => {
    let skew = 0; // a clock that runs with real time, shifted by `skew`
    const limiter = new RateLimiter({ requests: 3, perSeconds: 60 }, { now: () => Date.now() + skew });
    for (let i = 0; i < 3; i++) await limiter.acquire();
    skew = 59_900; // the 4th start must wait ~100 ms for the first one to leave the window
    const t1 = Date.now();
    await limiter.acquire();
    expect(Date.now() - t1).toBeGreaterThanOrEqual(50);
  });

  it('serves waiters in order and an aborted waiter leaves the queue', async () => {
    let now = 0;
    const limiter = new RateLimiter({ requests: 1, perSeconds: 0.05 }, { now: () => now });
    await limiter.acquire();
    const ac = new AbortController();
    const order: string[] = [];
    const a = limiter.acquire(ac.signal).then(
      () => order.push('a'),
      () => order.push('a aborted'),
    );
    const b = limiter.acquire().then(() => order.push('b'));
    ac.abort(new Error('stop'));
    now = 100;
    await Promise.all([a, b]);
    expect(order).toEqual(['a aborted', 'b']);
  });

  it('can be overridden per provider from configuration', () => {
    expect(loadConfig(['--rate-limit', 'phaya=120/60,mediaio=off'], {}).config.rateLimit).toEqual({
      phaya: { requests: 120, perSeconds: 60 },
      mediaio: 'off',
    });
    expect(() => loadConfig(['--rate-limit', 'phaya=fast'], {})).toThrow(/expected provider=N\/seconds/);
  });

  it("the registry's Phaya client keeps to the catalogue's 60 a minute unless --rate-limit says otherwise", async () => {
    const limitOf = async (argv: string[]) => {
      const env = { MEDIAGEN_STATE_DIR: tempDir(), PHAYA_API_KEY: 'k', PHAYA_BASE: 'http://127.0.0.1:9/api/v1' };
      const r = buildRegistry(loadConfig(argv, env).config, silentLogger, { rateLimits: new RateLimits() });
      const limit = r.clients.get('phaya')?.rateLimit;
      await r.close();
      return limit;
    };
    expect(await limitOf([])).toEqual({ requests: 60, perSeconds: 60 });
    expect(await limitOf(['--rate-limit', 'phaya=10/3'])).toEqual({ requests: 10, perSeconds: 3 });
    expect(await limitOf(['--rate-limit', 'phaya=off'])).toBeUndefined();
  });
});
