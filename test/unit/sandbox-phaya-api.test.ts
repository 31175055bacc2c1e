import { describe, it, expect } from 'vitest';
import { withSandbox, type Json } from '../helpers/sandbox-http.js';
import { callRoot as call, T2I } from '../helpers/phaya-wire.js';

describe('sandbox: Phaya auth and routing', () => {
  it('answers a missing or wrong bearer key with 401 {"detail"} and creates nothing', async () => {
    await withSandbox({ key: 'pk_test' }, async (sb) => {
      const none = await call(sb, 'POST', T2I, { prompt: 'x' }, null);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ detail: 'Not authenticated' });
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const wrong = await call(sb, 'GET', '/api/v1/user/credits', undefined, 'pk_wrong');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ detail: 'Invalid API key' });
      const xkey = await fetch(`${sb.url}/phaya/api/v1/user/credits`, { headers: { 'X-API-KEY': 'pk_test' } });
      expect(xkey.status).toBe(401);
      expect((await call(sb, 'GET', '/api/v1/user/credits')).status).toBe(200);
      expect(sb.stats().requests.map((r) => r.authorized)).toEqual([false, false, false, true]);
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('serves GET /text-to-speech/voices and the provider callbacks without auth', async () => {
    await withSandbox({}, async (sb) => {
      const v = await call(sb, 'GET', '/api/v1/text-to-speech/voices', undefined, null);
      expect(v.status).toBe(200);
      const voices = (v.body.voices as Json[]).map((x) => x.name);
      expect(voices).toHaveLength(19);
      expect(voices[0]).toBe('Zephyr');
      expect(voices).toContain('Zubenelgenubi');
      expect(v.body.default_voice).toBe('Zephyr');
      const cb = await call(sb, 'POST', '/api/v1/seedream/callback', { taskId: 'x' }, null);
      expect(cb.status).toBe(200);
      expect(cb.body.success).toBe(true);
    });
  });

  it('routes first: unknown path 404, wrong method 405 with Allow, both FastAPI-shaped', async () => {
    await withSandbox({}, async (sb) => {
      const nf = await call(sb, 'GET', '/api/v1/nope', undefined, null);
      expect(nf.status).toBe(404);
      expect(nf.body).toEqual({ detail: 'Not Found' });
      const wm = await call(sb, 'GET', T2I);
      expect(wm.status).toBe(405);
      expect(wm.body).toEqual({ detail: 'Method Not Allowed' });
      expect(wm.headers.get('allow')).toBe('POST');
      expect((await call(sb, 'POST', '/api/v1/user/credits', {})).headers.get('allow')).toBe('GET');
      expect((await call(sb, 'GET', '/api/v1/sora2-text-to-video/status/x/y')).status).toBe(404);
    });
  });
});

describe('sandbox: Phaya account', () => {
  it('answers /user/credits with the documented balance shape', async () => {
    await withSandbox({}, async (sb) => {
      const c = await call(sb, 'GET', '/api/v1/user/credits');
      expect(c.body).toEqual({
        success: true,
        user_id: expect.any(String) as unknown,
        credits_balance: 84.9,
        credits_balance_formatted: '84.90 เครดิต',
        currency: 'THB',
        cached: false,
      });
      const p = await call(sb, 'GET', '/api/v1/user/profile');
      expect(p.body).toMatchObject({ success: true, user_id: c.body.user_id, credits_balance: 84.9 });
      const h = await call(sb, 'GET', '/api/v1/user/credits/history?limit=5');
      expect(h.body).toMatchObject({ success: true, transactions: [], limit: 5 });
      expect((await call(sb, 'POST', '/api/v1/user/credits/invalidate-cache')).body.success).toBe(true);
      const plat = await call(sb, 'GET', '/api/v1/video-download/supported-platforms');
      expect(plat.body.platforms).toContain('youtube');
    });
  });
});

describe('sandbox: Phaya request validation (FastAPI 422)', () => {
  it('reports a missing prompt, a number where a string is documented, limits and enums', async () => {
    await withSandbox({}, async (sb) => {
      const miss = await call(sb, 'POST', T2I, { aspect_ratio: '1:1' });
      expect(miss.status).toBe(422);
      expect(miss.body).toEqual({
        detail: [{ type: 'missing', loc: ['body', 'prompt'], msg: 'Field required', input: { aspect_ratio: '1:1' } }],
      });
      const sora = await call(sb, 'POST', '/api/v1/sora2-text-to-video/create', { prompt: 'p', n_frames: 10 });
      expect(sora.status).toBe(422);
      expect(sora.body.detail).toEqual([
        {
          type: 'literal_error',
          loc: ['body', 'n_frames'],
          msg: "Input should be '10' or '15'",
          input: 10,
          ctx: { expected: "'10' or '15'" },
        },
      ]);
      const sd = await call(sb, 'POST', '/api/v1/seedance-video/create', { prompt: 'abc', duration: 8 });
      expect((sd.body.detail as Json[])[0]).toMatchObject({ type: 'literal_error', loc: ['body', 'duration'] });
      const long = await call(sb, 'POST', T2I, { prompt: 'x'.repeat(1001) });
      expect((long.body.detail as Json[])[0]).toMatchObject({ type: 'string_too_long', ctx: { max_length: 1000 } });
      const short = await call(sb, 'POST', '/api/v1/seedance-video/create', { prompt: 'ab' });
      expect((short.body.detail as Json[])[0]).toMatchObject({ type: 'string_too_short', ctx: { min_length: 3 } });
      const ratio = await call(sb, 'POST', T2I, { prompt: 'x', aspect_ratio: '2:1' });
      expect((ratio.body.detail as Json[])[0].msg).toBe("Input should be '1:1', '4:3', '3:4', '16:9' or '9:16'");
      const seeds = await call(sb, 'POST', '/api/v1/veo31-video/create', { prompt: 'x', seeds: 5 });
      expect((seeds.body.detail as Json[])[0]).toMatchObject({ type: 'greater_than_equal', ctx: { ge: 10000 } });
      const many = await call(sb, 'POST', '/api/v1/seedream/create', { prompt: 'x', image_urls: ['a', 'b'] });
      expect((many.body.detail as Json[])[0]).toMatchObject({
        type: 'too_long',
        msg: 'List should have at most 1 item after validation, not 2',
      });
      const kling = await call(sb, 'POST', '/api/v1/kling-motion-control/create', { input_urls: ['a'] });
      expect((kling.body.detail as Json[]).map((d) => d.loc)).toEqual([['body', 'video_urls']]);
      const two = await call(sb, 'POST', '/api/v1/text-to-music/generate', { style: 5, vocal_gender: 'x' });
      expect((two.body.detail as Json[]).map((d) => d.type)).toEqual(['missing', 'string_type', 'literal_error']);
      expect(sb.stats().jobs).toBe(0);
    });
  });

  it('reports bad JSON and an empty body the FastAPI way, and coerces like Pydantic lax mode', async () => {
    await withSandbox({}, async (sb) => {
      const bad = await call(sb, 'POST', T2I, '{"prompt": ');
      expect(bad.status).toBe(422);
      expect((bad.body.detail as Json[])[0]).toMatchObject({ type: 'json_invalid', msg: 'JSON decode error' });
      const empty = await call(sb, 'POST', T2I, '');
      expect(empty.body).toEqual({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
      const arr = await call(sb, 'POST', T2I, []);
      expect((arr.body.detail as Json[])[0]).toMatchObject({ type: 'model_attributes_type', loc: ['body'] });
      const lax = await call(sb, 'POST', '/api/v1/image-to-video/create', {
        image_url: 'https://x/a.png',
        duration: '5',
      });
      expect(lax.status).toBe(200);
      const frac = await call(sb, 'POST', '/api/v1/image-to-video/create', { image_url: 'a', duration: 2.5 });
      expect((frac.body.detail as Json[])[0].type).toBe('int_from_float');
      const zoom = await call(sb, 'POST', '/api/v1/image-to-video/create', { image_url: 'a', zoom: { mode: 'spin' } });
      expect((zoom.body.detail as Json[])[0].loc).toEqual(['body', 'zoom', 'mode']);
      const nul = await call(sb, 'POST', '/api/v1/text-to-speech/generate', {
        prompt: 'x',
        language: null,
        slow: 'yes',
      });
      expect(nul.status).toBe(200);
    });
  });
});

describe('sandbox: Phaya-GPT and embeddings (synchronous)', () => {
  it('answers chat with the flat Phaya-GPT shape, not choices[]', async () => {
    await withSandbox({}, async (sb) => {
      const r = await call(sb, 'POST', '/api/v1/phaya-gpt/chat/completions', {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'Hello, what can you do?' },
        ],
      });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual([
        'success',
        'id',
        'model',
        'message',
        'usage',
        'credits_used',
        'finish_reason',
      ]);
      expect(r.body).toMatchObject({ success: true, model: 'Phaya-GPT', finish_reason: 'stop' });
      expect(r.body.message).toEqual({ role: 'assistant', content: 'Sandbox reply to: Hello, what can you do?' });
      const u = r.body.usage as Record<string, number>;
      expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
      expect(r.body.credits_used).toBeGreaterThan(0);
      const bad = await call(sb, 'POST', '/api/v1/phaya-gpt/chat/completions', {
        messages: [{ role: 'robot', content: 'x' }],
      });
      expect((bad.body.detail as Json[])[0].loc).toEqual(['body', 'messages', 0, 'role']);
      expect((await call(sb, 'GET', '/api/v1/phaya-gpt/models')).body.default_model).toBe(
        'google/gemini-3-flash-preview',
      );
      expect((await call(sb, 'GET', '/api/v1/phaya-gpt/pricing')).body.currency).toBe('THB');
    });
  });

  it('streams OpenRouter SSE ending with data: [DONE]', async () => {
    await withSandbox({}, async (sb) => {
      const r = await call(sb, 'POST', '/api/v1/phaya-gpt/chat/completions', {
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
      const first = JSON.parse(r.text.split('\n\n')[0].slice('data: '.length)) as Json;
      expect(first.object).toBe('chat.completion.chunk');
    });
  });

  it('embeds strings and lists deterministically (4096 dims) and prices embeddings', async () => {
    await withSandbox({}, async (sb) => {
      const r = await call(sb, 'POST', '/api/v1/embedding/create', { input: ['a', 'b'] });
      const data = r.body.data as { index: number; embedding: number[] }[];
      expect(data.map((d) => d.index)).toEqual([0, 1]);
      expect(data[0].embedding).toHaveLength(4096);
      const again = await call(sb, 'POST', '/api/v1/embedding/create', { input: 'a' });
      expect((again.body.data as typeof data)[0].embedding).toEqual(data[0].embedding);
      expect(r.body.model).toBe('qwen/qwen3-embedding-8b');
      const bad = await call(sb, 'POST', '/api/v1/embedding/create', { input: 3 });
      expect(bad.status).toBe(422);
      expect((await call(sb, 'GET', '/api/v1/embedding/pricing')).body.dimensions).toBe(4096);
    });
  });
});

describe('sandbox: Phaya OpenAI-compatible proxy at the host root', () => {
  it('serves /v1/chat/completions, /v1/models, /v1/embeddings, /v1/responses in OpenAI shapes', async () => {
    await withSandbox({}, async (sb) => {
      const chat = await call(sb, 'POST', '/v1/chat/completions', {
        model: 'phaya-gpt',
        messages: [{ role: 'user', content: 'yo' }],
      });
      expect(chat.body).toMatchObject({ object: 'chat.completion', model: 'phaya-gpt' });
      expect(chat.body.choices).toEqual([
        { index: 0, message: { role: 'assistant', content: 'Sandbox reply to: yo' }, finish_reason: 'stop' },
      ]);
      const models = await call(sb, 'GET', '/v1/models');
      expect(models.body.object).toBe('list');
      expect((models.body.data as Json[]).map((m) => m.id)).toContain('phaya-gpt');
      const emb = await call(sb, 'POST', '/v1/embeddings', { model: 'qwen/qwen3-embedding-8b', input: 'x' });
      expect(Object.keys(emb.body)).toEqual(['object', 'data', 'model', 'usage']);
      const resp = await call(sb, 'POST', '/v1/responses', { model: 'phaya-gpt', input: 'hello' });
      expect(resp.body).toMatchObject({ object: 'response', status: 'completed' });
      expect((resp.body.output as Json[])[0]).toMatchObject({
        type: 'message',
        content: [{ type: 'output_text', text: 'Sandbox reply to: hello', annotations: [] }],
      });
      const sse = await call(sb, 'POST', '/v1/chat/completions', {
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
      expect(sse.text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect((await call(sb, 'GET', '/api/v1/models')).status).toBe(404); // the proxy is not under /api/v1
    });
  });

  it('answers proxy errors the OpenAI way', async () => {
    await withSandbox({}, async (sb) => {
      const auth = await call(sb, 'GET', '/v1/models', undefined, 'nope');
      expect(auth.status).toBe(401);
      expect(auth.body).toEqual({
        error: { message: 'Invalid API key', type: 'authentication_error', param: null, code: 'invalid_api_key' },
      });
      const bad = await call(sb, 'POST', '/v1/chat/completions', { model: 'x' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    });
  });
});
