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

  it('the app-only approval tool is not offered to a client that renders no views', () => {
    expect(tools.map((t) => t.name)).not.toContain('mediagen_approve');
  });

  it('has tools', () => {
    expect(tools.length).toBeGreaterThan(20);
  });

  it('every name matches ^[a-z0-9_]{1,64}$ and is unique', () => {
    for (const t of tools) expect(t.name).toMatch(/^[a-z0-9_]{1,64}$/);
    expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
  });

  // MCP ToolAnnotations defaults (spec 2025-06-18): readOnlyHint false, destructiveHint true,
  // idempotentHint false, openWorldHint true; destructive/idempotent are meaningful only when not read-only.
  const DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
  const SERVER_TOOLS = [
    'quote',
    'models',
    'spend_report',
    'jobs_get',
    'jobs_wait',
    'jobs_cancel',
    'jobs_list',
    'jobs_track',
    'mediagen_approve',
    'media_thumbnail',
  ];
  /**
   * Server tools that write: cancel a job at the provider; adopt a job (charges nothing, settles a
   * reservation); the approval view's Approve / Decline (runs an approved call on the paid tool's own path).
   */
  const WRITING = ['jobs_cancel', 'jobs_track', 'mediagen_approve'];
  const hints = (t: Tool) => ({ ...DEFAULTS, ...t.annotations });
  const isPaid = (t: Tool) => !hints(t).readOnlyHint && !SERVER_TOOLS.includes(t.name);

  it('annotations list only what differs from the MCP defaults; paid tools are never read-only', () => {
    for (const t of tools) {
      const a = t.annotations ?? {};
      for (const [k, v] of Object.entries(a))
        expect(v, `${t.name}.${k}`).not.toBe(DEFAULTS[k as keyof typeof DEFAULTS]);
      if (a.readOnlyHint) expect(Object.keys(a), t.name).toEqual(['readOnlyHint']);
      if (/^Price:/m.test(t.description ?? '')) expect(hints(t).readOnlyHint, t.name).toBe(false);
      if (isPaid(t)) expect(hints(t).destructiveHint, t.name).toBe(false);
      if (SERVER_TOOLS.includes(t.name)) expect(hints(t).readOnlyHint, t.name).toBe(!WRITING.includes(t.name));
    }
    expect(hints(tools.find((t) => t.name === 'jobs_cancel')!)).toMatchObject({
      destructiveHint: true,
      idempotentHint: true,
    });
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

  it('no sub-schema is an empty {} (a free-form object says type: object)', () => {
    for (const t of tools) expect(emptySubSchemas(t.inputSchema), t.name).toEqual([]);
  });

  it('every paid tool has a price line; other tools have none', () => {
    for (const t of tools) {
      const line = (t.description ?? '').split('\n').find((l) => l.startsWith('Price: '));
      if (isPaid(t)) expect(line, t.name).toMatch(/^Price: .+\.$/);
      else expect(line, t.name).toBeUndefined();
    }
  });

  it('guard fields are listed only where usable: confirm_token where consent may be needed, idempotency_key on paid tools', () => {
    for (const t of tools) {
      const keys = Object.keys(t.inputSchema.properties ?? {});
      if (!isPaid(t)) {
        expect(keys, t.name).not.toContain('confirm_token');
        expect(keys, t.name).not.toContain('idempotency_key');
        continue;
      }
      expect(keys, t.name).toContain('idempotency_key');
      if (/needs confirmation/i.test(t.description ?? '')) expect(keys, t.name).toContain('confirm_token');
    }
    const without = tools.filter((t) => isPaid(t) && !('confirm_token' in (t.inputSchema.properties ?? {})));
    expect(without.length).toBeGreaterThanOrEqual(5);
    for (const t of without) expect(t.description, t.name).not.toMatch(/confirmation|unknown/i);
  });

  it('no schema lists additionalProperties (unknown keys are still refused, see validation tests)', () => {
    expect(JSON.stringify(tools.map((t) => t.inputSchema))).not.toContain('additionalProperties');
  });
});
