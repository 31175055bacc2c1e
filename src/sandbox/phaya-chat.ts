/**
 * Phaya's synchronous LLM routes. Phaya-GPT answers flat, NOT OpenAI's `choices[]` (seed 000, "Chat with
 * Phaya-GPT"; phaya.md): `{success, id, model: "Phaya-GPT", message{role, content},
 * usage{prompt_tokens, completion_tokens, total_tokens}, credits_used, finish_reason}`; with
 * `stream: true` it relays OpenRouter's SSE ending `data: [DONE]`. Embeddings return `data[]`.
 * The OpenAI-compatible proxy at the host root answers in OpenAI's own shapes.
 * The reply text echoes the last user message. Prices (THB per million tokens: 10.50 in, 87.50 out;
 * embeddings 2.80, 4096 dimensions) are third-party observations quoted in phaya.md, not the skill's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { findFaultsIn } from './faults.js';
import { errorReply, invalidBody, rejectByFaults, type Dialect } from './phaya-replies.js';
import { validateBody, type Fields } from './phaya-validate.js';
import { jsonReply, textReply, type ParsedRequest, type Reply, type SandboxContext } from './types.js';

export const UPSTREAM_MODEL = 'google/gemini-3-flash-preview';
export const EMBEDDING_MODEL = 'qwen/qwen3-embedding-8b';
export const EMBEDDING_DIMENSIONS = 4096;
const PRICE_IN = 10.5;
const PRICE_OUT = 87.5;
const PRICE_EMBED = 2.8;

const MESSAGE: Fields = {
  role: { t: 'lit', values: ['system', 'user', 'assistant'], req: true },
  content: { t: 'any', req: true },
};
const CHAT_FIELDS: Fields = {
  messages: { t: 'list', item: { t: 'obj', fields: MESSAGE }, req: true, min: 1 },
  model: { t: 'str' },
  temperature: { t: 'num', def: 0.7 },
  max_tokens: { t: 'int', ge: 1 },
  stream: { t: 'bool', def: false },
  web_search: { t: 'bool', def: false },
};
/** The proxy takes standard OpenAI bodies: only what the sandbox needs is checked. */
const OPENAI_CHAT_FIELDS: Fields = {
  messages: { t: 'list', item: { t: 'obj', fields: { role: { t: 'str', req: true } } }, req: true, min: 1 },
  model: { t: 'str' },
  stream: { t: 'bool', def: false },
};
const EMBED_FIELDS: Fields = { input: { t: 'strOrStrs', req: true }, model: { t: 'str', def: EMBEDDING_MODEL } };
const RESPONSES_FIELDS: Fields = { input: { t: 'any', req: true }, model: { t: 'str' }, stream: { t: 'bool' } };

/** The text of a message's content: a string, or the text parts of an OpenAI parts array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: unknown) =>
      typeof p === 'object' && p !== null && 'text' in p && typeof p.text === 'string' ? p.text : '',
    )
    .join(' ');
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

interface Answer {
  content: string;
  prompt_tokens: number;
  completion_tokens: number;
}

function answer(messages: unknown[]): Answer {
  let prompt = 0;
  let lastUser = '';
  for (const m of messages) {
    const rec: Record<string, unknown> = typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {};
    const text = textOf(rec.content);
    prompt += tokens(text) + 3;
    if (rec.role === 'user') lastUser = text;
  }
  const content = `Sandbox reply to: ${lastUser}`;
  return { content, prompt_tokens: prompt, completion_tokens: tokens(content) };
}

function usage(a: Answer): Record<string, number> {
  return {
    prompt_tokens: a.prompt_tokens,
    completion_tokens: a.completion_tokens,
    total_tokens: a.prompt_tokens + a.completion_tokens,
  };
}

function charge(a: Answer): number {
  return Math.round(((a.prompt_tokens * PRICE_IN + a.completion_tokens * PRICE_OUT) / 1e6) * 1e6) / 1e6;
}

/** Validate, play the faults (all strings of the body are scanned: these routes have no prompt). */
async function prepare(
  req: ParsedRequest,
  fields: Fields,
  dialect: Dialect,
  ctx: SandboxContext,
): Promise<{ reply: Reply } | { value: Record<string, unknown> }> {
  const v = validateBody(req.body, fields);
  if (!v.ok) return { reply: invalidBody(dialect, v.detail) };
  const faults = findFaultsIn(v.value);
  const rejected = await rejectByFaults(faults, dialect, ctx, v.value);
  if (rejected) return { reply: rejected };
  if (faults.has('fail') || faults.has('timeout')) {
    return {
      reply: errorReply(dialect, 502, 'Upstream model error: sandbox: generation failed', undefined, 'upstream_error'),
    };
  }
  return { value: v.value };
}

function sse(events: unknown[]): Reply {
  const text = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n';
  return textReply(200, text, 'text/event-stream; charset=utf-8', { 'Cache-Control': 'no-cache' });
}

export async function phayaGptChat(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
  const p = await prepare(req, CHAT_FIELDS, 'fastapi', ctx);
  if ('reply' in p) return p.reply;
  const a = answer(p.value.messages as unknown[]);
  const id = `gen-${Math.floor(Date.now() / 1000)}-${randomBytes(10).toString('hex')}`;
  if (p.value.stream === true) {
    const base = { id, provider: 'Google', model: UPSTREAM_MODEL, object: 'chat.completion.chunk' };
    const created = Math.floor(Date.now() / 1000);
    const choice = (delta: Record<string, unknown>, finish: string | null): unknown => [
      { index: 0, delta, finish_reason: finish, native_finish_reason: finish === null ? null : 'STOP', logprobs: null },
    ];
    return sse([
      { ...base, created, choices: choice({ role: 'assistant', content: a.content }, null) },
      { ...base, created, choices: choice({ role: 'assistant', content: '' }, 'stop'), usage: usage(a) },
    ]);
  }
  return jsonReply(200, {
    success: true,
    id,
    model: 'Phaya-GPT',
    message: { role: 'assistant', content: a.content },
    usage: usage(a),
    credits_used: charge(a),
    finish_reason: 'stop',
  });
}

export function phayaGptModels(): Reply {
  return jsonReply(200, {
    success: true,
    default_model: UPSTREAM_MODEL,
    models: [{ id: UPSTREAM_MODEL, name: 'Phaya-GPT', default: true }],
  });
}

export function phayaGptPricing(): Reply {
  return jsonReply(200, {
    success: true,
    model: 'Phaya-GPT',
    currency: 'THB',
    input_per_million_tokens: PRICE_IN,
    output_per_million_tokens: PRICE_OUT,
  });
}

/** A deterministic unit vector for `text` (same text, same vector). */
export function embedding(text: string, dims = EMBEDDING_DIMENSIONS): number[] {
  const raw: number[] = [];
  for (let block = 0; raw.length < dims; block++) {
    const h = createHash('sha256').update(`${block}\u0000${text}`).digest();
    for (let i = 0; i + 1 < h.length && raw.length < dims; i += 2) raw.push(h.readUInt16BE(i) / 32767.5 - 1);
  }
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0)) || 1;
  return raw.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

function embedAll(value: Record<string, unknown>): { data: unknown[]; promptTokens: number } {
  const inputs = Array.isArray(value.input) ? (value.input as string[]) : [value.input as string];
  const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: embedding(text) }));
  return { data, promptTokens: inputs.reduce((s, t) => s + tokens(t), 0) };
}

export async function embeddingCreate(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
  const p = await prepare(req, EMBED_FIELDS, 'fastapi', ctx);
  if ('reply' in p) return p.reply;
  const { data, promptTokens } = embedAll(p.value);
  return jsonReply(200, {
    success: true,
    object: 'list',
    data,
    model: p.value.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    credits_used: Math.round(((promptTokens * PRICE_EMBED) / 1e6) * 1e6) / 1e6,
  });
}

export function embeddingPricing(): Reply {
  return jsonReply(200, {
    success: true,
    model: EMBEDDING_MODEL,
    currency: 'THB',
    price_per_million_tokens: PRICE_EMBED,
    dimensions: EMBEDDING_DIMENSIONS,
  });
}

// ------------------------------------------------------------------ OpenAI-compatible proxy (host root)

export async function openaiChat(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
  const p = await prepare(req, OPENAI_CHAT_FIELDS, 'openai', ctx);
  if ('reply' in p) return p.reply;
  const a = answer(p.value.messages as unknown[]);
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = typeof p.value.model === 'string' ? p.value.model : UPSTREAM_MODEL;
  if (p.value.stream === true) {
    const base = { id, object: 'chat.completion.chunk', created, model };
    return sse([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: a.content }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ]);
  }
  return jsonReply(200, {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: a.content }, finish_reason: 'stop' }],
    usage: usage(a),
  });
}

export function openaiModels(): Reply {
  const created = 1735689600; // 2025-01-01
  const model = (id: string): unknown => ({ id, object: 'model', created, owned_by: 'phaya' });
  return jsonReply(200, { object: 'list', data: [model('phaya-gpt'), model(UPSTREAM_MODEL), model(EMBEDDING_MODEL)] });
}

export async function openaiEmbeddings(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
  const p = await prepare(req, EMBED_FIELDS, 'openai', ctx);
  if ('reply' in p) return p.reply;
  const { data, promptTokens } = embedAll(p.value);
  return jsonReply(200, {
    object: 'list',
    data,
    model: p.value.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

export async function openaiResponses(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> {
  const p = await prepare(req, RESPONSES_FIELDS, 'openai', ctx);
  if ('reply' in p) return p.reply;
  if (p.value.stream === true) {
    return errorReply('openai', 400, 'sandbox: streaming is not imitated for /v1/responses', undefined, 'unsupported');
  }
  const input = p.value.input;
  const a = answer(typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input : []);
  return jsonReply(200, {
    id: `resp_${randomBytes(12).toString('hex')}`,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: typeof p.value.model === 'string' ? p.value.model : UPSTREAM_MODEL,
    output: [
      {
        type: 'message',
        id: `msg_${randomBytes(12).toString('hex')}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: a.content, annotations: [] }],
      },
    ],
    usage: {
      input_tokens: a.prompt_tokens,
      output_tokens: a.completion_tokens,
      total_tokens: a.prompt_tokens + a.completion_tokens,
    },
  });
}
