import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectInMemory } from '../helpers/in-memory.js';

type Family = {
  family: string;
  name: string;
  tools: { tool: string; provider: string; price: string; kinds: string[] }[];
};
let call: (args: Record<string, unknown>) => Promise<Family[]>;
let close: () => Promise<void>;

beforeAll(async () => {
  const c = await connectInMemory();
  close = c.close;
  call = async (args) => {
    const r = (await c.client.callTool({ name: 'models', arguments: args })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    return (r.structuredContent as { families: Family[] }).families;
  };
});
afterAll(() => close());

describe('models: model families across providers', () => {
  it('lists the families offered, each with the tools that serve it', async () => {
    const families = await call({});
    const ids = families.map((f) => f.family);
    for (const f of [
      'veo',
      'kling',
      'seedream',
      'nano-banana',
      'sora',
      'wan',
      'vidu',
      'hailuo',
      'imagen',
      'suno',
      'seedance',
    ])
      expect(ids, f).toContain(f);
    const veo = families.find((f) => f.family === 'veo')!;
    expect(veo.name).toBe('Google Veo 3.1');
    expect(veo.tools.map((t) => t.provider).sort()).toEqual(['mediaio', 'mediaio', 'phaya']);
  });

  it('prices each route for the given arguments, cheapest first, unknown prices last', async () => {
    const [veo] = await call({ family: 'veo', arguments: { model: 'veo3' } });
    expect(veo.tools[0]).toMatchObject({ tool: 'phaya_veo31_video', price: '50 credits' });
    expect(veo.tools.slice(1).every((t) => t.price === 'unknown')).toBe(true);
    const [banana] = await call({ family: 'nano-banana', arguments: { resolution: '4K' } });
    expect(banana.tools[0]).toMatchObject({ tool: 'phaya_nano_banana', price: '4 credits' });
  });

  it('ignores arguments a tool does not accept or that do not fit it', async () => {
    const [veo] = await call({ family: 'veo', arguments: { model: 'not-a-model', duration: '8s' } });
    expect(veo.tools[0]).toMatchObject({ tool: 'phaya_veo31_video', price: '15 credits' });
  });

  it('filters by media kind', async () => {
    const families = await call({ kind: 'music' });
    expect(families.map((f) => f.family)).toEqual(['suno']);
  });
});
