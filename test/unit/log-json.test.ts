/**
 * The JSON log format of the logger itself: one object per line, the request's context merged in, and the
 * redactor run on the whole line, which stays valid JSON (the configured key, a request's own key, and
 * key-shaped fields alike).
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { noteLog, withLogContext } from '../../src/log-context.js';
import { withRequestKeys } from '../../src/request-keys.js';

const SECRET = 'sk-configured-0123456789abcdef';
const OWN = 'own!key~for-this-request-only';

function capture(format: 'text' | 'json') {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', [SECRET], (l) => lines.push(l), format) };
}

describe('createLogger json', () => {
  it('writes one parseable object with time, level, message, context and fields, and no secret', () => {
    const { lines, log } = capture('json');
    withRequestKeys(new Map([['phaya', OWN]]), () =>
      withLogContext({ request_id: 'r1', principal: 'alice', tool: 'phaya_text_to_image' }, () => {
        noteLog({ job: 'job_1', price: '1 credits' });
        log.warn(`provider said ${SECRET} and "${OWN}"`, {
          echoed: { key: SECRET, own: OWN, header: `Bearer ${SECRET}` },
          note: 'api_key=abcdefgh\\"tail', // a key-shaped value before an escaped quote
          'x-api-key': 'zzzzzzzzzz',
        });
        log.info('second', { note: 'x-api-key: qwertyuiop"' });
      }),
    );
    log.error('outside any request');
    expect(lines).toHaveLength(3);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toEqual(
      expect.objectContaining({
        level: 'warn',
        request_id: 'r1',
        principal: 'alice',
        tool: 'phaya_text_to_image',
        job: 'job_1',
        price: '1 credits',
      }),
    );
    expect(new Date(parsed[0].time as string).toISOString()).toBe(parsed[0].time);
    expect(parsed[2]).toEqual({ time: expect.any(String), level: 'error', message: 'outside any request' });
    const all = lines.join('\n');
    for (const s of [SECRET, OWN, 'zzzzzzzzzz', 'qwertyuiop', 'abcdefgh']) expect(all).not.toContain(s);
  });

  it('text stays as it was', () => {
    const { lines, log } = capture('text');
    withLogContext({ principal: 'alice' }, () => log.info('hello', { a: 1 }));
    expect(lines).toEqual(['[mediagen-mcp] info: hello {"a":1}']);
  });
});

describe('createLogger json: fields that could break a line', () => {
  it("keeps a line's own time, level and message: a field of that name becomes field_<name>", () => {
    const { lines, log } = capture('json');
    log.warn('provider request failed', { message: 'upstream said no', level: 'debug', time: 'never', n: 1 });
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toEqual({
      time: expect.any(String),
      level: 'warn',
      message: 'provider request failed',
      field_message: 'upstream said no',
      field_level: 'debug',
      field_time: 'never',
      n: 1,
    });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('writes a BigInt as its digits and a cycle as "[circular]", keeping the other fields', () => {
    const { lines, log } = capture('json');
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const shared = { k: 1 };
    log.info('odd values', { big: 12345678901234567890n, loop, twice: [shared, shared], plain: 'kept' });
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line.big).toBe('12345678901234567890');
    expect(line.loop).toEqual({ name: 'loop', self: '[circular]' });
    expect(line.twice).toEqual([{ k: 1 }, { k: 1 }]);
    expect(line.plain).toBe('kept');
  });

  it('a key-named field whose value holds a quote: redacted, valid JSON, the other fields kept', () => {
    const { lines, log } = capture('json');
    log.warn('echoed', { api_key: 'abcdefgh"tail', authorization: 'qwertyuiop', other: 'kept' });
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line.other).toBe('kept');
    expect(lines[0]).not.toContain('abcdefgh');
    expect(lines[0]).not.toContain('qwertyuiop');
  });
});
