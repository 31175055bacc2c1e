/**
 * The hook a paid create may carry: added only for an operation that names a webhookParam, only when a
 * public URL is set and the caller gave none; the caller's arguments are never changed; a provider error
 * that echoes the request loses the capability before it can reach a result or a log line.
 */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/catalogue/format.js';
import { MediagenError } from '../../src/errors.js';
import { capabilityHash } from '../../src/jobs/webhook.js';
import { scrubbed, withHook } from '../../src/tools/paid-hook.js';

const op = (webhookParam?: string) =>
  ({ id: 'video', job: webhookParam ? { webhookParam } : {} }) as unknown as Operation;
const PUBLIC = 'https://mcp.example.test';

describe('withHook', () => {
  it('adds <public-url>/hooks/<capability>, a fresh one per call, and leaves the arguments as they were', () => {
    const args = Object.freeze({ prompt: 'a wave' });
    const a = withHook(op('webhook_url'), args, PUBLIC);
    const b = withHook(op('webhook_url'), args, PUBLIC);
    expect(args).toEqual({ prompt: 'a wave' });
    expect(a.sent).toEqual({ prompt: 'a wave', webhook_url: `${PUBLIC}/hooks/${a.secret}` });
    expect(a.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.hash).toBe(capabilityHash(a.secret as string));
    expect(b.secret).not.toBe(a.secret);
  });

  it('adds nothing without a public URL, without a webhookParam, or when the caller gave one', () => {
    const own = { prompt: 'x', webhook_url: 'https://mine.example/h' };
    for (const h of [
      withHook(op('webhook_url'), { prompt: 'x' }, undefined),
      withHook(op(), { prompt: 'x' }, PUBLIC),
      withHook(op('webhook_url'), own, PUBLIC),
    ]) {
      expect(h.hash).toBeUndefined();
      expect(h.secret).toBeUndefined();
    }
    expect(withHook(op('webhook_url'), own, PUBLIC).sent).toBe(own);
    expect(withHook(op('webhook_url'), { prompt: 'x', webhook_url: null }, PUBLIC).hash).toBeDefined();
  });
});

describe('scrubbed', () => {
  it('takes the capability out of an error message and its details, keeping the code and the outcome', () => {
    const secret = 'A'.repeat(43);
    const err = new MediagenError('PROVIDER_REJECTED', `bad webhook_url ${PUBLIC}/hooks/${secret}`, {
      sent: true,
      excerpt: `{"webhook_url":"${PUBLIC}/hooks/${secret}"}`,
    });
    const out = scrubbed(err, secret) as MediagenError;
    expect(out).toBeInstanceOf(MediagenError);
    expect(out.code).toBe('PROVIDER_REJECTED');
    expect(out.details.sent).toBe(true);
    expect(JSON.stringify({ m: out.message, d: out.details, s: out.stack })).not.toContain(secret);
    const clean = new MediagenError('PROVIDER_HTTP', 'no answer');
    expect(scrubbed(clean, secret)).toBe(clean);
    expect(scrubbed(err, undefined)).toBe(err);
  });
});
