/**
 * Phaya as its documents say: `stream: false` accepted (true refused, the server does not stream), required
 * prompts refuse "", and PHAYA_BASE is required (no bearer key is sent to a host known only from hearsay).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { buildRegistry } from '../../src/tools/registry.js';
import { minimalArgs } from '../helpers/args.js';
import { tempDir } from '../helpers/in-memory.js';
import { callConfirmed, callTool, sandboxed, type ListedSchema } from '../helpers/sandboxed.js';

let sandbox: Sandbox;
let client: Client;
let close: () => Promise<void>;
let schemas: Map<string, ListedSchema>;

beforeAll(async () => {
  ({ sandbox, client, close, schemas } = await sandboxed(['--toolsets', 'phaya']));
});
afterAll(() => close());

const call = (name: string, args: Record<string, unknown>) => callTool(client, name, args);
const paid = (name: string, args: Record<string, unknown>) => callConfirmed(client, name, args);
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

const chat = { messages: [{ role: 'user', content: 'hello' }] };

describe('phaya_gpt_chat stream', () => {
  it('accepts the documented stream: false and sends it', async () => {
    sandbox.reset();
    const r = await paid('phaya_gpt_chat', { ...chat, stream: false });
    expect(r.isError, text(r)).toBeFalsy();
    const sent = sandbox.stats().requests.find((q) => q.path.endsWith('/phaya-gpt/chat/completions'));
    expect(sent?.body).toMatchObject({ stream: false });
  });

  it('refuses stream: true with the reason, before any request', async () => {
    sandbox.reset();
    const r = await call('phaya_gpt_chat', { ...chat, stream: true });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^BAD_ARGUMENTS: .*stream: true is refused: this server does not stream/);
    expect(sandbox.stats().total).toBe(0);
  });

  it('lists stream with its default and the refused value', () => {
    expect(schemas.get('phaya_gpt_chat')?.properties?.stream).toMatchObject({
      type: 'boolean',
      default: false,
      not: { enum: [true] },
    });
  });
});

const prompted = [
  'phaya_text_to_image',
  'phaya_seedream',
  'phaya_nano_banana',
  'phaya_sora2_image_to_video',
  'phaya_sora2_text_to_video',
  'phaya_veo31_video',
  'phaya_text_to_music',
  'phaya_text_to_speech',
];

describe('required prompts', () => {
  it('eight tools list minLength 1 on their required prompt', () => {
    const listed = [...schemas].filter(([, s]) => (s.required ?? []).includes('prompt'));
    for (const [name, s] of listed) expect(s.properties?.prompt, name).toMatchObject({ type: 'string' });
    const withMin1 = listed.filter(([, s]) => (s.properties?.prompt as { minLength?: number }).minLength === 1);
    expect(withMin1.map(([n]) => n).sort()).toEqual([...prompted].sort());
    // Seedance keeps its documented 3.
    expect((schemas.get('phaya_seedance')?.properties?.prompt as { minLength?: number }).minLength).toBe(3);
  });

  it.each(prompted)('%s refuses an empty prompt with zero provider requests', async (name) => {
    const schema = schemas.get(name);
    if (!schema) throw new Error(`no tool ${name}`);
    sandbox.reset();
    const r = await call(name, { ...minimalArgs(schema), prompt: '' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^BAD_ARGUMENTS: .*prompt: too short/);
    expect(sandbox.stats().total).toBe(0);
  });
});

describe('PHAYA_BASE is required', () => {
  function registry(env: Record<string, string>) {
    const lines: string[] = [];
    const logger: Logger = { ...silentLogger, info: (m: string) => void lines.push(m) };
    const { config } = loadConfig([], { MEDIAGEN_STATE_DIR: tempDir(), ...env });
    return { r: buildRegistry(config, logger), lines };
  }

  it('with a key and no base URL, Phaya is left out with one line naming the variable', async () => {
    const { r, lines } = registry({ PHAYA_API_KEY: 'pk_test' });
    expect(r.tools.filter((t) => t.catalogue.provider === 'phaya')).toEqual([]);
    expect(r.unconfigured).toContain('phaya');
    const phaya = lines.filter((l) => l.startsWith('phaya:'));
    expect(phaya).toEqual([expect.stringMatching(/^phaya: PHAYA_BASE is not set \(required.*left out$/)]);
    expect(lines.join('\n')).not.toContain('pk_test');
    await r.close();
  });

  it('with a key and a base URL, Phaya is served from that base', async () => {
    const { r } = registry({ PHAYA_API_KEY: 'pk_test', PHAYA_BASE: 'http://127.0.0.1:9/api/v1' });
    expect(r.tools.some((t) => t.name === 'phaya_text_to_image')).toBe(true);
    expect(r.unconfigured).not.toContain('phaya');
    await r.close();
  });
});
