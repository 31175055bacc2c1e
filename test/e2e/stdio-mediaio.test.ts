import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const IMAGE = 'https://example.com/cat.png';
let sandbox: Sandbox;
let server: StdioServer;

function envFor(s: Sandbox, key = s.key): Record<string, string> {
  return {
    MEDIAIO_BASE_URL: s.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: key,
    MEDIAGEN_HTTP_TIMEOUT_MS: '1500',
    MEDIAGEN_STATE_DIR: tempDir(),
  };
}

/** Media.io prices are unknown, so every create needs consent: refused first (zero requests), then confirmed. */
async function confirmed(name: string, args: Record<string, unknown>) {
  const first = await server.call(name, args);
  expect(first.isError).toBe(true);
  expect(first.structuredContent).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
  expect(sandbox.stats().total).toBe(0);
  const token = (first.structuredContent as { confirm_token: string }).confirm_token;
  return server.call(name, { ...args, confirm_token: token });
}

beforeAll(async () => {
  sandbox = await startSandbox({ slowMs: 4000 });
  server = await spawnStdio(envFor(sandbox));
});
afterAll(async () => {
  await server?.close();
  await sandbox?.close();
});
beforeEach(() => sandbox.reset());

describe('stdio server against the sandbox (Media.io)', () => {
  it('lists every live Media.io tool', async () => {
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names.filter((n) => n.startsWith('mediaio_'))).toHaveLength(22);
    expect(names.filter((n) => !n.startsWith('mediaio_')).sort()).toEqual([
      'jobs_cancel',
      'jobs_get',
      'jobs_list',
      'jobs_track',
      'jobs_wait',
      'media_thumbnail',
      'models',
      'quote',
      'spend_report',
    ]);
    expect(names).toContain('mediaio_i2v_kling_v3_0');
    expect(names).toContain('mediaio_user_credits');
    expect(names).not.toContain('mediaio_t2v_wan_v2_5');
  });

  it.each([
    [
      'an unknown enum value',
      { image: IMAGE, prompt: 'a cat', duration: '7s' },
      /duration: not an allowed value \(got "7s"\); allowed: one of 5s, 8s, 10s, 15s/,
    ],
    [
      'an over-long prompt',
      { image: IMAGE, prompt: 'x'.repeat(2501) },
      /prompt: too long \(got "x+… \(2501 characters\)\); allowed: a string of 1–2500 characters/,
    ],
    ['a missing required argument', { prompt: 'a cat' }, /image: required; allowed: an http\(s\) URL/],
    [
      'an unknown argument',
      { image: IMAGE, prompt: 'a cat', fps: 24 },
      /arguments: unknown argument\(s\) fps \(got fps=24\); accepted: image, prompt, resolution, duration, multi_shots, generate_audio, confirm_token, idempotency_key/,
    ],
    [
      'a string where a boolean belongs',
      { image: IMAGE, prompt: 'a cat', generate_audio: 'True' },
      /generate_audio: expected boolean, got string \(got "True"\); allowed: true or false/,
    ],
    [
      'an image that is not a URL',
      { image: 'not a url', prompt: 'a cat' },
      /image: not a URL \(got "not a url"\); allowed: an http\(s\) URL/,
    ],
  ])('refuses %s with BAD_ARGUMENTS and makes zero provider requests', async (_what, args, says) => {
    const r = await server.call('mediaio_i2v_kling_v3_0', args);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^BAD_ARGUMENTS: /);
    expect(text(r)).toMatch(says);
    expect(r.structuredContent).toMatchObject({ code: 'BAD_ARGUMENTS' });
    expect(sandbox.stats().total).toBe(0);
  });

  it('reads the credit balance', async () => {
    const r = await server.call('mediaio_user_credits');
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ credits: 1000 });
    expect(sandbox.stats().requests.map((q) => [q.method, q.path])).toEqual([['POST', '/mediaio/user/credits']]);
  });
});

describe('paid create calls against the sandbox (Media.io)', () => {
  it('sends exactly one POST with the {"data": {...}} body, defaults applied, booleans as the provider strings, and the key header', async () => {
    const r = await confirmed('mediaio_i2v_kling_v3_0', {
      image: IMAGE,
      prompt: 'a cat surfing',
      generate_audio: false,
    });
    expect(text(r)).not.toMatch(/^[A-Z_]+: /);
    expect(r.structuredContent).toMatchObject({
      provider: 'mediaio',
      tool: 'mediaio_i2v_kling_v3_0',
      status: 'pending',
    });
    expect((r.structuredContent as { job_id: string }).job_id).toMatch(/^job_/);
    const jobId = (r.structuredContent as { provider_job_id: string }).provider_job_id;
    expect(jobId).toMatch(/^mio-/);
    expect(text(r)).toContain(jobId);
    // The price is unknown: a free balance read comes first (observed prices), then the one create.
    const all = sandbox.stats().requests;
    expect(all.map((q) => q.path)).toEqual(['/mediaio/user/credits', '/mediaio/generation/kling/i2v-kling-v3-0']);
    const reqs = all.slice(1);
    expect(reqs[0]).toMatchObject({
      method: 'POST',
      path: '/mediaio/generation/kling/i2v-kling-v3-0',
      authorized: true,
    });
    expect(reqs[0].body).toEqual({
      data: {
        image: IMAGE,
        prompt: 'a cat surfing',
        resolution: '1080P',
        duration: '5s',
        multi_shots: 'True',
        generate_audio: 'False',
      },
    });
  });

  it('does not retry a create POST that got a 503 (the sandbox saw exactly one request); its outcome is unknown', async () => {
    const r = await confirmed('mediaio_t2i_imagen_4', { prompt: 'a lighthouse sandbox:5xx' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^OUTCOME_UNKNOWN: .*it answered HTTP 503/);
    expect(sandbox.stats().total).toBe(1);
  });

  it('does not retry a create POST that got a 429, and reports RATE_LIMITED with Retry-After', async () => {
    const r = await confirmed('mediaio_t2i_imagen_4', { prompt: 'a lighthouse sandbox:429' });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(sandbox.stats().total).toBe(1);
  });

  it('maps envelope code 490505 on HTTP 200 to INSUFFICIENT_CREDITS', async () => {
    const r = await confirmed('mediaio_t2i_imagen_4', { prompt: 'a lighthouse sandbox:credits' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^INSUFFICIENT_CREDITS: mediaio error 490505/);
    expect(r.structuredContent).toMatchObject({ code: 'INSUFFICIENT_CREDITS', providerCode: 490505 });
  });

  it('reports a create that timed out as OUTCOME_UNKNOWN (the provider may have accepted it)', async () => {
    const r = await confirmed('mediaio_t2i_imagen_4', { prompt: 'a lighthouse sandbox:slow' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^OUTCOME_UNKNOWN: .*did not answer in time/);
    expect(sandbox.stats().total).toBe(1);
  });
});

describe('a server with a bad key', () => {
  it('reports PROVIDER_AUTH and never shows the key', async () => {
    const badKey = 'mio-live-WRONG-key-123456';
    const bad = await spawnStdio(envFor(sandbox, badKey));
    try {
      const r = await bad.call('mediaio_user_credits');
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^PROVIDER_AUTH: mediaio error 40001/);
      expect(JSON.stringify(r)).not.toContain(badKey);
      expect(bad.stderr()).not.toContain(badKey);
      expect(sandbox.stats().requests.map((q) => q.authorized)).toEqual([false]);
    } finally {
      await bad.close();
    }
  });
});
