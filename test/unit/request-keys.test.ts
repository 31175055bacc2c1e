/**
 * Per-request provider keys: header parsing (names only in errors), the scope's lifetime (only the request
 * that sent a key sees it, concurrent requests apart), and the logger scrubbing a request's key while it runs
 * even where nothing in the line looks like a key.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { keysFromHeaders, requestKey, requestSecrets, withRequestKeys } from '../../src/request-keys.js';

const KEY = 'plainkeyvalue0123456789';

describe('keysFromHeaders', () => {
  it('reads X-Mediagen-Key-<Provider> in any case, by lower-case provider, and ignores other headers', () => {
    const keys = keysFromHeaders({
      'x-mediagen-key-phaya': ` ${KEY} `,
      'X-Mediagen-Key-MediaIO': 'k2k2k2k2',
      host: 'h',
    });
    expect([...keys]).toEqual([
      ['phaya', KEY],
      ['mediaio', 'k2k2k2k2'],
    ]);
  });

  it.each([
    ['empty', ''],
    ['shorter than 8 characters', 'k7q2x9p'],
    ['a comma (two headers joined)', 'a, b'],
    ['a control character', 'ab\u0001cd'],
    ['over 4096 characters', 'x'.repeat(4097)],
  ])('refuses %s, naming the header and never the value', (_, value) => {
    expect(() => keysFromHeaders({ 'x-mediagen-key-phaya': value })).toThrow(/x-mediagen-key-phaya/);
    try {
      keysFromHeaders({ 'x-mediagen-key-phaya': value });
    } catch (e) {
      if (value.length > 0) expect((e as Error).message).not.toContain(value);
    }
  });

  it('refuses a repeated header', () => {
    expect(() => keysFromHeaders({ 'x-mediagen-key-phaya': ['a1a1a1', 'b2b2b2'] })).toThrow(/more than once/);
  });
});

describe('the request scope', () => {
  it('a key is seen inside its own request only, concurrent requests apart, and by nothing after', async () => {
    const seen: (string | undefined)[] = [];
    const a = withRequestKeys(new Map([['phaya', 'key-a-aaaaaa']]), async () => {
      await new Promise((r) => setTimeout(r, 20));
      seen.push(requestKey('Phaya'));
    });
    const b = withRequestKeys(new Map(), async () => {
      await new Promise((r) => setTimeout(r, 10));
      seen.push(requestKey('phaya'));
    });
    await Promise.all([a, b]);
    expect(seen).toEqual([undefined, 'key-a-aaaaaa']);
    expect(requestKey('phaya')).toBeUndefined();
    expect(requestSecrets()).toEqual([]);
  });

  it("a request without keys, run inside another's scope, inherits none of them", async () => {
    const inner = await withRequestKeys(new Map([['phaya', 'outer-key-12345']]), () =>
      withRequestKeys(new Map(), async () => {
        await Promise.resolve();
        return [requestKey('phaya'), requestSecrets()];
      }),
    );
    expect(inner).toEqual([undefined, []]);
  });

  it("the logger scrubs the request's key while it runs, in any field, though it looks like no key", async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', [], (l) => lines.push(l));
    await withRequestKeys(new Map([['phaya', KEY]]), async () => {
      await Promise.resolve();
      logger.debug(`echo ${KEY}`, { body: `{"note":"${KEY}"}` });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(KEY);
    expect(lines[0]).toContain('[redacted]');
  });
});
