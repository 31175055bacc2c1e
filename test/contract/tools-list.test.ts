import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectInMemory } from '../helpers/in-memory.js';

type Tool = Awaited<ReturnType<Client['listTools']>>['tools'][number];
let tools: Tool[] = [];
let close: () => Promise<void>;

beforeAll(async () => {
  const c = await connectInMemory();
  close = c.close;
  tools = (await c.client.listTools()).tools;
});
afterAll(() => close());

/** JSON pointers of every sub-schema (the root included) for which `bad` holds. */
function findSchemas(schema: unknown, bad: (s: Record<string, unknown>) => boolean, path = '#'): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const here = !Array.isArray(schema) && bad(s) ? [path] : [];
  return here.concat(
    Object.entries(s).flatMap(([k, v]) =>
      Array.isArray(v)
        ? v.flatMap((x, i) => findSchemas(x, bad, `${path}/${k}/${i}`))
        : findSchemas(v, bad, `${path}/${k}`),
    ),
  );
}

const arraysWithoutItems = (schema: unknown) => findSchemas(schema, (s) => s.type === 'array' && !s.items);

/** `{}` as a sub-schema accepts anything and says nothing (MCP Inspector --strict warns about it). */
const emptySubSchemas = (schema: unknown) =>
  findSchemas(schema, (s) =>
    ['additionalProperties', 'items'].some(
      (k) => typeof s[k] === 'object' && s[k] !== null && Object.keys(s[k] as object).length === 0,
    ),
  );

describe('tools/list contract', () => {
  it('matches the checked-in snapshot of the whole list (sorted by name)', async () => {
    const sorted = [...tools].sort((a, b) => a.name.localeCompare(b.name));
    await expect(JSON.stringify(sorted, null, 2) + '\n').toMatchFileSnapshot('./__snapshots__/tools-list.json');
  });

  it('has tools', () => {
    expect(tools.length).toBeGreaterThan(20);
  });

  it('every name matches ^[a-z0-9_]{1,64}$ and is unique', () => {
    for (const t of tools) expect(t.name).toMatch(/^[a-z0-9_]{1,64}$/);
    expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
  });

  it('every tool sets all four annotation hints explicitly; paid tools are never read-only', () => {
    for (const t of tools) {
      const a = t.annotations ?? {};
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const)
        expect(typeof a[hint], `${t.name}.${hint}`).toBe('boolean');
      if (/^Price:/m.test(t.description ?? '')) expect(a.readOnlyHint, t.name).toBe(false);
      if (t.name.startsWith('jobs_') || ['quote', 'models', 'spend_report'].includes(t.name))
        expect(a.readOnlyHint, t.name).toBe(t.name !== 'jobs_cancel');
    }
  });

  it('no input schema has a top-level anyOf/oneOf/allOf; every one is an object', () => {
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      for (const k of ['anyOf', 'oneOf', 'allOf']) expect(t.inputSchema, t.name).not.toHaveProperty(k);
    }
  });

  it('every array schema has items', () => {
    for (const t of tools) expect(arraysWithoutItems(t.inputSchema), t.name).toEqual([]);
  });

  it('no sub-schema is an empty {} (free-form objects say additionalProperties: true)', () => {
    for (const t of tools) expect(emptySubSchemas(t.inputSchema), t.name).toEqual([]);
  });

  it('every paid tool has a price line; other tools have none', () => {
    for (const t of tools) {
      const paid = 'confirm_token' in (t.inputSchema.properties ?? {});
      const line = (t.description ?? '').split('\n').find((l) => l.startsWith('Price: '));
      if (paid) expect(line, t.name).toMatch(/^Price: .+\.$/);
      else expect(line, t.name).toBeUndefined();
    }
  });

  it('every catalogue tool that is not read-only is paid and accepts the guard fields', () => {
    for (const t of tools.filter((x) => x.annotations?.readOnlyHint === false && !x.name.startsWith('jobs_'))) {
      expect(Object.keys(t.inputSchema.properties ?? {}), t.name).toEqual(
        expect.arrayContaining(['confirm_token', 'idempotency_key']),
      );
    }
  });
});
