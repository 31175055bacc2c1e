/**
 * How paid requests are counted in mediagen_provider_requests_total, through the real Metrics methods that
 * paid.ts calls (providerFailed with the error the call failed with, providerAnswered with the answer's
 * class) and the real error type: what was never sent is not counted, 408/409 and a 2xx without a job id
 * are unknown, another 4xx and a provider's error envelope are refused.
 */
import { describe, expect, it } from 'vitest';
import { MediagenError, type ErrorCode } from '../../src/errors.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { sample, total } from '../helpers/metrics.js';

const failed = (code: ErrorCode, details: Record<string, unknown> = {}) => new MediagenError(code, 'x', details);

describe('mediagen_provider_requests_total classes', () => {
  it('counts only what left the process, by class', async () => {
    const m = new Metrics();
    // Refused before anything was sent: no provider request at all.
    m.providerFailed('phaya', failed('NOT_CONFIGURED'));
    m.providerFailed('phaya', failed('RATE_LIMITED'));
    m.providerFailed('phaya', failed('BAD_ARGUMENTS'));
    m.providerFailed('phaya', failed('PROVIDER_HTTP', { sent: false }));
    expect(total(await m.text(), 'mediagen_provider_requests_total')).toBe(0);

    m.providerFailed('phaya', failed('PROVIDER_HTTP', { httpStatus: 408 }));
    m.providerFailed('phaya', failed('PROVIDER_HTTP', { httpStatus: 409 }));
    m.providerFailed('phaya', failed('PROVIDER_HTTP', { httpStatus: 502 }));
    m.providerFailed('phaya', new Error('socket hang up')); // not ours: it may have been accepted
    m.providerFailed('phaya', failed('PROVIDER_HTTP', { httpStatus: 400 }));
    m.providerFailed('phaya', failed('PROVIDER_HTTP', { providerCode: 'E_PROMPT' }));
    // A rate-limit answer from the provider (sent, HTTP 429) is a refusal that was sent.
    m.providerFailed('phaya', failed('RATE_LIMITED', { httpStatus: 429 }));
    m.providerAnswered('phaya', 'accepted');
    m.providerAnswered('mediaio', 'unknown'); // a 2xx without a usable job id
    const body = await m.text();
    const n = (provider: string, cls: string) =>
      sample(body, 'mediagen_provider_requests_total', { provider, class: cls });
    expect([n('phaya', 'unknown'), n('phaya', 'refused'), n('phaya', 'accepted')]).toEqual([4, 3, 1]);
    expect(n('mediaio', 'unknown')).toBe(1);
    expect(total(body, 'mediagen_provider_requests_total')).toBe(9);
  });
});
