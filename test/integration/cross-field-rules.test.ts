/**
 * Cross-field rules: Media.io Hailuo 2.3 ("1080P (when duration is 6s)") is checked before any request
 * with a clear BAD_ARGUMENTS, stated on the listed description, and the loader refuses rules that name
 * no parameter or a value outside its enum.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalogueFile } from '../../src/catalogue/load.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { sandboxed } from '../helpers/sandboxed.js';

const TOOL = 'mediaio_i2v_minimax_v2_3';
const base = { image: 'https://x.example/a.png', prompt: 'a boat' };
let sandbox: Sandbox;
let client: Client;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ sandbox, client, close } = await sandboxed(['--toolsets', 'mediaio']));
});
afterAll(() => close());

const call = async (args: Record<string, unknown>) =>
  (await client.callTool({ name: TOOL, arguments: args })) as CallToolResult;
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe('Media.io Hailuo 2.3: 1080P only when duration is 6s', () => {
  it('the listed description states the rule', async () => {
    const t = (await client.listTools()).tools.find((x) => x.name === TOOL);
    expect(t?.description).toContain('Rule: resolution 1080P only when duration is 6s.');
  });

  it('1080P with 10s is refused with BAD_ARGUMENTS, zero requests, no consent asked', async () => {
    sandbox.reset();
    const r = await call({ ...base, resolution: '1080P', duration: '10s' });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      `BAD_ARGUMENTS: ${TOOL}: resolution 1080P only when duration is 6s (got duration "10s"). Nothing was sent.`,
    );
    expect(sandbox.stats().total).toBe(0);
  });

  it.each([
    ['1080P with the default duration (6s)', { resolution: '1080P' }],
    ['1080P with 6s', { resolution: '1080P', duration: '6s' }],
    ['768P with 10s', { resolution: '768P', duration: '10s' }],
  ])('%s passes validation (on to consent)', async (_what, extra) => {
    const r = await call({ ...base, ...extra });
    expect(r.structuredContent).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
  });
});

describe('the loader checks rules', () => {
  function catalogue(rules: unknown): string {
    const file = join(tempDir(), 'acme.json');
    writeFileSync(
      file,
      JSON.stringify({
        provider: 'acme',
        title: 'Acme',
        baseUrl: { env: 'ACME_BASE', default: 'https://acme.example' },
        auth: { type: 'bearer', env: 'ACME_KEY' },
        operations: [
          {
            id: 'make',
            title: 'Make',
            summary: 'Make a thing.',
            method: 'POST',
            path: '/make',
            params: [
              { name: 'size', type: 'string', enum: ['s', 'l'] },
              { name: 'mode', type: 'string', enum: ['a', 'b'] },
            ],
            rules,
            price: { credits: 1 },
          },
        ],
      }),
    );
    return file;
  }

  it('refuses a rule naming no parameter, or a value outside the enum, naming the JSON pointer', () => {
    expect(() =>
      loadCatalogueFile(catalogue([{ if: { param: 'size', in: ['l'] }, then: { param: 'nope', in: ['a'] } }])),
    ).toThrow(/acme\.json: \/operations\/0\/rules\/0\/then\/param: "nope" is not a parameter/);
    expect(() =>
      loadCatalogueFile(catalogue([{ if: { param: 'size', in: ['xl'] }, then: { param: 'mode', in: ['a'] } }])),
    ).toThrow(/\/operations\/0\/rules\/0\/if\/in: "xl" is not one of the values of "size"/);
    expect(
      loadCatalogueFile(catalogue([{ if: { param: 'size', in: ['l'] }, then: { param: 'mode', in: ['b'] } }]))
        .operations[0].rules,
    ).toHaveLength(1);
  });
});
