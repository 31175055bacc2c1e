/**
 * Hostile and malformed input gets a clear answer and reaches no provider: URL arguments with other
 * schemes, arguments that are not an object or nest too deep, huge bad values, provider job ids that
 * would walk the status URL, and approval forms answered badly or not at all.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { startHostile } from '../helpers/hostile.js';
import { hits, phayaEnv, sc } from '../helpers/money.js';
import { rawCall } from '../helpers/raw-stdio.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  sandbox.reset();
});

async function serve(
  env: Record<string, string> = phayaEnv(sandbox),
  opts: Parameters<typeof spawnStdio>[2] = {},
): Promise<StdioServer> {
  const s = await spawnStdio(env, [], opts);
  servers.push(s);
  return s;
}

describe('URL arguments', () => {
  it.each([
    'javascript:alert(1)',
    'file:///etc/passwd',
    'gopher://example.com/x',
    'ftp://example.com/a.png',
    'data:image/png;base64,AAAA',
  ])('refuses %s before any request', async (url) => {
    const s = await serve();
    const r = await s.call('phaya_image_to_video', { image_url: url });
    expect(sc(r).code, text(r)).toBe('BAD_ARGUMENTS');
    expect(text(r)).toMatch(/image_url/);
    expect(sandbox.stats().total).toBe(0);
  });

  it('accepts https and http', async () => {
    const s = await serve();
    for (const url of ['https://example.com/a.png', 'http://example.com/a.png']) {
      const r = await s.call('phaya_image_to_video', { image_url: url });
      expect(r.isError, text(r)).toBeFalsy();
    }
    expect(sandbox.stats().total).toBe(2);
  });
});

describe('malformed arguments', () => {
  it('arguments that are not an object are BAD_ARGUMENTS, not a JSON-RPC error', async () => {
    const s = await serve();
    for (const args of [[1, 2], 'prompt', 7, true]) {
      const r = await s.client.request(
        { method: 'tools/call', params: { name: 'phaya_text_to_image', arguments: args as never } },
        (await import('@modelcontextprotocol/sdk/types.js')).CallToolResultSchema,
      );
      expect(sc(r).code, JSON.stringify(args)).toBe('BAD_ARGUMENTS');
    }
    expect(sandbox.stats().total).toBe(0);
  });

  it('arguments nested 5,000 levels deep are refused without a stack overflow', async () => {
    // Sent as a raw line: an SDK client would itself choke on building such a request.
    let deep = '"x"';
    for (let i = 0; i < 5_000; i++) deep = `{"a":${deep}}`;
    for (const [name, args] of [
      ['phaya_text_to_image', `{"prompt":"x","extra":${deep}}`],
      ['quote', `{"tool":"phaya_text_to_image","arguments":${deep}}`],
    ]) {
      const { result, stderr } = await rawCall(phayaEnv(sandbox), name, args);
      expect(result.structuredContent?.code, name).toBe('BAD_ARGUMENTS');
      expect(JSON.stringify(result)).toMatch(/nested deeper than 32 levels/);
      expect(stderr).not.toMatch(/Maximum call stack/);
    }
    expect(sandbox.stats().total).toBe(0);
  });

  it('a 5 MB bad enum value is excerpted, not echoed', async () => {
    const s = await serve();
    const huge = 'x'.repeat(5 * 1024 * 1024);
    const r = await s.call('phaya_nano_banana', { prompt: 'a lantern', resolution: huge });
    expect(sc(r).code).toBe('BAD_ARGUMENTS');
    expect(JSON.stringify(r).length).toBeLessThan(5_000);
    expect(text(r)).toMatch(
      /resolution: not an allowed value \(got "x{20,}… \(5242880 characters\)\); allowed: one of 1K, 2K, 4K/,
    );
  });
});

describe('provider job ids', () => {
  it.each([['..'], [''], ['../../user/credits'], [' x'], [{ id: 1 }]])(
    'a create answered with job id %j is OUTCOME_UNKNOWN and the id never reaches a URL',
    async (jobId) => {
      const hostile = await startHostile(() => ({
        status: 200,
        body: JSON.stringify({ job_id: jobId, status: 'PENDING' }),
      }));
      try {
        const s = await serve({ ...phayaEnv(sandbox), PHAYA_BASE: hostile.base, PHAYA_API_KEY: 'hostile-key-1234' });
        const r = await s.call('phaya_text_to_image', { prompt: 'a lantern', idempotency_key: 'odd-job-id-0001' });
        expect(sc(r).code, text(r)).toBe('OUTCOME_UNKNOWN');
        expect(text(r)).toMatch(/no usable job id/);
        const list = await s.call('jobs_list', {});
        expect(text(list)).toBe('No jobs match.');
        expect(hostile.requests.map((q) => q.method + ' ' + q.path)).toEqual(['POST /api/v1/text-to-image/generate']);
      } finally {
        await hostile.close();
      }
    },
  );
});

describe('approval forms', () => {
  const SORA = { name: 'phaya_sora2_text_to_video', arguments: { prompt: 'a paper boat' } };
  const SORA_PATH = '/phaya/api/v1/sora2-text-to-video/create'; // the form also reads the balance (free)

  it('a malformed answer is CONSENT_DECLINED, nothing sent', async () => {
    const s = await serve(phayaEnv(sandbox), { capabilities: { elicitation: {} } });
    s.client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { approve: 'yes please' } }));
    const r = await s.call(SORA.name, SORA.arguments);
    expect(sc(r).code, text(r)).toBe('CONSENT_DECLINED');
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('no answer within the consent timeout is CONSENT_TIMEOUT, nothing sent', async () => {
    const s = await serve(
      { ...phayaEnv(sandbox), MEDIAGEN_CONSENT_TIMEOUT_SECONDS: '1' },
      { capabilities: { elicitation: {} } },
    );
    s.client.setRequestHandler(ElicitRequestSchema, () => new Promise(() => undefined));
    const r = await s.call(SORA.name, SORA.arguments);
    expect(sc(r).code, text(r)).toBe('CONSENT_TIMEOUT');
    expect(text(r)).toMatch(/not answered within 1 s\. Nothing was sent or charged/);
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });
});
