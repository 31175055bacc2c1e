/** Errors that teach: every BAD_ARGUMENTS line names the field, what was received and what is allowed. */
import { describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/catalogue/load.js';
import { MediagenError } from '../../src/errors.js';
import { buildTool } from '../../src/tools/build.js';
import { validateArgs } from '../../src/tools/validate.js';

const cat = parseCatalogue(
  JSON.stringify({
    provider: 'acme',
    title: 'Acme',
    baseUrl: { env: 'ACME_BASE', default: 'https://acme.example/api' },
    auth: { type: 'bearer', env: 'ACME_KEY' },
    operations: [
      {
        id: 'render',
        title: 'Render',
        summary: 'Render something.',
        method: 'POST',
        path: '/render',
        price: { credits: 2 },
        params: [
          { name: 'duration', type: 'integer', enum: [5, 10], default: 5 },
          { name: 'steps', type: 'integer', minimum: 1, maximum: 50 },
          { name: 'prompt', type: 'string', required: true, maxLength: 10 },
          { name: 'images', type: 'array', items: 'url', maxItems: 2 },
          {
            name: 'messages',
            type: 'array',
            items: 'object',
            properties: [
              { name: 'role', type: 'string', required: true, enum: ['system', 'user', 'assistant'] },
              { name: 'content', type: 'string', required: true },
            ],
          },
        ],
      },
    ],
  }),
  'acme.json',
);
const tool = buildTool(cat.operations[0], cat);

function refusal(args: unknown): string[] {
  try {
    validateArgs(tool, args);
  } catch (e) {
    expect(e).toBeInstanceOf(MediagenError);
    const err = e as MediagenError;
    expect(err.code).toBe('BAD_ARGUMENTS');
    return (err.details.issues as { message: string }[]).map((i) => i.message);
  }
  throw new Error('accepted');
}

describe('BAD_ARGUMENTS teaches', () => {
  it('a number enum names its allowed values (not "Invalid input")', () => {
    expect(refusal({ prompt: 'a', duration: 7 })).toEqual([
      'duration: not an allowed value (got 7); allowed: one of 5, 10',
    ]);
    expect(refusal({ prompt: 'a', duration: '5' })).toEqual([
      'duration: expected number, got string (got "5"); allowed: one of 5, 10',
    ]);
  });

  it('a range, a length and an item count are stated in full', () => {
    expect(refusal({ prompt: 'a', steps: 99 })).toEqual(['steps: too large (got 99); allowed: an integer, 1–50']);
    expect(refusal({ prompt: 'far too long a prompt' })).toEqual([
      'prompt: too long (got "far too long a prompt"); allowed: a string of at most 10 characters',
    ]);
    expect(
      refusal({ prompt: 'a', images: ['https://a.example/1', 'https://a.example/2', 'https://a.example/3'] }),
    ).toEqual([
      'images: too many items (got ["https://a.example/1","https://a.exampl… (3 items)); allowed: a list of at most 2 items, each an http(s) URL',
    ]);
  });

  it('unknown keys are refused and the accepted ones named (a 2-credit tool has no confirm_token), at the top level and inside array items', () => {
    expect(refusal({ prompt: 'a', sped: 2 })).toEqual([
      'arguments: unknown argument(s) sped (got sped=2); accepted: duration, steps, prompt, images, messages, idempotency_key',
    ]);
    expect(refusal({ prompt: 'a', messages: [{ role: 'user', content: 'hi', name: 'x' }] })).toEqual([
      'messages.0: unknown argument(s) name (got name="x"); accepted: role, content',
    ]);
  });

  it('array items with fields are validated: one line per problem', () => {
    const lines = refusal({ messages: [{ role: 'robot' }] });
    expect(lines).toEqual([
      'prompt: required; allowed: a string of at most 10 characters',
      'messages.0.role: not an allowed value (got "robot"); allowed: one of system, user, assistant',
      'messages.0.content: required; allowed: a string',
    ]);
    try {
      validateArgs(tool, { messages: [{ role: 'robot' }] });
    } catch (e) {
      expect((e as Error).message).toBe(`acme_render: \n${lines.join('\n')}`);
    }
    expect(validateArgs(tool, { prompt: 'a', messages: [{ role: 'user', content: 'hi' }] })).toMatchObject({
      duration: 5,
      messages: [{ role: 'user', content: 'hi' }],
    });
  });
});
