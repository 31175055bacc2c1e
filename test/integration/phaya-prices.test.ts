/**
 * Every documented Phaya price combination: `quote` must equal the figure in ../shared/providers/phaya.md.
 * The figures are typed here from the fact sheet, not read back from the catalogue.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { minimalArgs } from '../helpers/args.js';
import { connectInMemory } from '../helpers/in-memory.js';

let sandbox: Sandbox;
let client: Client;
let close: () => Promise<void>;
const schemas = new Map<string, { properties?: Record<string, object>; required?: string[] }>();

beforeAll(async () => {
  sandbox = await startSandbox();
  const c = await connectInMemory(
    ['--toolsets', 'phaya'],
    {},
    { baseUrl: (p, d) => sandbox.baseUrl(p, d), key: sandbox.key },
  );
  client = c.client;
  close = c.close;
  for (const t of (await client.listTools()).tools) schemas.set(t.name, t.inputSchema);
});
afterAll(async () => {
  await close();
  await sandbox.close();
});

async function quote(tool: string, args: Record<string, unknown> = {}) {
  const schema = schemas.get(tool);
  if (!schema) throw new Error(`no tool ${tool}`);
  const r = (await client.callTool({
    name: 'quote',
    arguments: { tool, arguments: { ...minimalArgs(schema), ...args } },
  })) as CallToolResult;
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent as {
    price: { kind: string; credits?: number; reason?: string };
    consent: { needed: boolean };
  };
}

const fixed: [string, Record<string, unknown>, number][] = [
  ['phaya_text_to_image', {}, 1],
  ['phaya_seedream', {}, 1.5],
  ['phaya_nano_banana', { resolution: '1K' }, 2],
  ['phaya_nano_banana', { resolution: '2K' }, 3],
  ['phaya_nano_banana', { resolution: '4K' }, 4],
  ['phaya_nano_banana', {}, 2],
  ['phaya_image_to_video', {}, 0.5],
  ['phaya_sora2_image_to_video', {}, 8],
  ['phaya_sora2_text_to_video', {}, 8],
  ['phaya_sora2_character', {}, 0.5],
  ['phaya_veo31_video', { model: 'veo3_fast' }, 15],
  ['phaya_veo31_video', { model: 'veo3' }, 50],
  ['phaya_veo31_video', {}, 15],
  ['phaya_text_to_music', {}, 3],
];

// Seedance 1.5 Pro: resolution x duration, no audio / with audio
const seedance: Record<string, Record<string, [number, number]>> = {
  '480p': { '4': [2, 3], '8': [3, 6], '12': [4, 8] },
  '720p': { '4': [3, 6], '8': [6, 12], '12': [9, 18] },
  '1080p': { '4': [6, 12], '8': [12, 23], '12': [18, 35] },
};

describe('Phaya prices as documented', () => {
  it.each(fixed)('%s %j costs %d credits', async (tool, args, credits) => {
    expect((await quote(tool, args)).price).toMatchObject({ kind: 'exact', credits });
  });

  const cells = Object.entries(seedance).flatMap(([res, byDur]) =>
    Object.entries(byDur).flatMap(([dur, [plain, audio]]) => [
      [res, dur, false, plain],
      [res, dur, true, audio],
    ]),
  ) as [string, string, boolean, number][];
  it.each(cells)('Seedance %s %ss audio=%s costs %d', async (resolution, duration, generate_audio, credits) => {
    expect((await quote('phaya_seedance', { resolution, duration, generate_audio })).price).toMatchObject({
      kind: 'exact',
      credits,
    });
  });

  it('Seedream price note follows the seed (charged on creation) and the notes record the disagreement', () => {
    const cat = JSON.parse(readFileSync(new URL('../../catalogues/phaya.json', import.meta.url), 'utf8')) as {
      notes: string[];
      operations: { id: string; price: { note?: string } }[];
    };
    expect(cat.operations.find((o) => o.id === 'seedream')?.price.note).toMatch(/on job creation/);
    expect(cat.notes.join(' ')).toMatch(/Seedream is charged on completion\. The documents disagree/);
  });

  it('Seedance defaults (720p, 8 s, no audio) cost 6', async () => {
    expect((await quote('phaya_seedance')).price).toMatchObject({ kind: 'exact', credits: 6 });
  });

  it.each([
    ['720p', 'image', 12.1],
    ['720p', 'video', 36.3],
    ['1080p', 'image', 18.2],
    ['1080p', 'video', 54.6],
  ])(
    'Kling motion %s, orientation %s: up to %d (1.21 or 1.82 per output second, at most 10 or 30 s)',
    async (mode, character_orientation, credits) => {
      expect((await quote('phaya_kling_motion_control', { mode, character_orientation })).price).toMatchObject({
        kind: 'upTo',
        credits,
      });
    },
  );

  it.each([
    ['phaya_thai_subtitle', /0\.17 credits per minute, minimum 0\.07/],
    ['phaya_video_download', /0\.5 credits per 10 MB/],
    ['phaya_text_to_speech', /token/i],
    ['phaya_gpt_chat', /token/i],
    ['phaya_embedding', /token/i],
  ])('%s has no price before the call and says why', async (tool, why) => {
    const q = await quote(tool);
    expect(q.price.kind).toBe('unknown');
    expect(q.price.reason).toMatch(why);
    expect(q.consent.needed).toBe(true);
  });

  it('Veo and Sora always need consent, whatever the price; a 1-credit image does not', async () => {
    expect((await quote('phaya_veo31_video')).consent.needed).toBe(true);
    expect((await quote('phaya_sora2_text_to_video')).consent.needed).toBe(true);
    expect((await quote('phaya_text_to_image')).consent.needed).toBe(false);
  });

  it('quote made no paid request (only the free balance route)', () => {
    const paths = new Set(sandbox.stats().requests.map((r) => r.path));
    expect([...paths].every((p) => p === '/phaya/api/v1/user/credits')).toBe(true);
  });
});
