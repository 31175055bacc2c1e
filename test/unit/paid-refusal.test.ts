/**
 * A paid call refused by a store outage before its request: the answer says the call can be repeated as it
 * is only when undoing it worked; when the undo writes failed too it says what was left behind (a used
 * approval, a bound key, a reserved row), and the failure is logged once, at warn, with the reservation.
 */
import { describe, expect, it } from 'vitest';
import { MediagenError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { cleanUp } from '../../src/tools/paid-inflight.js';
import { refusedByStore } from '../../src/tools/paid.js';

const outage = (): MediagenError =>
  new MediagenError(
    'STORE_UNAVAILABLE',
    'The store (SQLite) is unavailable (SQLITE_BUSY); nothing was written. Try again shortly.',
    {
      store: 'sqlite',
    },
  );
const fails = (): Promise<void> => Promise.reject(outage());
const works = (): Promise<void> => Promise.resolve();

describe('a refusal by the store', () => {
  it('undone: the call can be repeated as it is', async () => {
    const lines: string[] = [];
    const log = createLogger('debug', [], (l) => lines.push(l));
    const left = await cleanUp({ logger: log }, 'job_1', [
      ['reservation', works],
      ['approval', works],
      ['key', works],
    ]);
    const e = refusedByStore(outage(), 'phaya_text_to_image', 'phaya', left) as MediagenError;
    expect(e.message).toMatch(/nothing was sent to phaya and nothing was charged; the call can be repeated as it is/);
    expect(e.details).not.toHaveProperty('left_behind');
    expect(lines).toEqual([]);
  });

  it('not undone: says what is left and what a repeat needs; one warn with the reservation', async () => {
    const lines: string[] = [];
    const log = createLogger('debug', [], (l) => lines.push(l));
    const left = await cleanUp({ logger: log }, 'job_2', [
      ['reservation', fails],
      ['approval', fails],
      ['key', fails],
    ]);
    const e = refusedByStore(outage(), 'phaya_text_to_image', 'phaya', left) as MediagenError;
    expect(e.message).not.toMatch(/repeated as it is/);
    expect(e.message).toMatch(/a new approval/);
    expect(e.message).toMatch(/new idempotency_key/);
    expect(e.message).toMatch(/counts against the caps, and past the request deadline as uncertain/);
    // The store's "nothing was written. Try again shortly." is not said beside what the undo left behind.
    expect(e.message).not.toMatch(/nothing was written/);
    expect(e.details).toMatchObject({ sent: false, left_behind: ['reservation', 'approval', 'key'] });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/warn: .*reservation.*job_2/);
  });
});
