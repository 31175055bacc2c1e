/**
 * The listed JSON Schemas are built directly from the catalogue (and, for server tools, from a small
 * zod walker) while a zod validator judges every call. This proves the two agree: on examples derived
 * from the contract snapshot's schemas (valid, and one broken constraint at a time), a JSON Schema
 * validator (ajv) and our validator accept and refuse the same arguments. Two intended differences:
 * unknown keys, which the listed schema does not forbid (no additionalProperties: false) and the server
 * refuses, naming the accepted keys; and `null` for an optional field, which the server reads as "not
 * given" (strict clients send it), so ajv judges such arguments without those nulls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectInMemory } from '../helpers/in-memory.js';
import { shapeSchema } from '../../src/tools/zod-json.js';
import { dropNulls } from '../../src/tools/validate.js';
import type { App } from '../../src/app.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

type Schema = {
  pattern?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  /** Values the server refuses (catalogue `refuse`). */
  not?: { enum?: unknown[] };
};
type Tool = { name: string; inputSchema: Schema };

/**
 * The guard fields are listed bare; the server instructions state their limits once ("idempotency_key
 * (8-128 characters)"), so those are part of the listed contract and checked here too. URL fields list
 * their http(s) pattern themselves.
 */
const GUARD_LIMITS: Record<string, Schema> = {
  confirm_token: { type: 'string', maxLength: 512 },
  idempotency_key: { type: 'string', minLength: 8, maxLength: 128 },
};
function withInstructions(t: Tool): Tool {
  const properties = { ...t.inputSchema.properties };
  for (const k of Object.keys(GUARD_LIMITS)) if (properties[k]) properties[k] = GUARD_LIMITS[k];
  return { ...t, inputSchema: { ...t.inputSchema, properties } };
}

/** The arguments as the server reads them: a null for an optional (not required) field is not given. */
function asGiven(s: Schema, v: unknown): unknown {
  if (Array.isArray(v)) return s.items ? v.map((x) => asGiven(s.items!, x)) : v;
  if (!v || typeof v !== 'object' || !s.properties) return v;
  const props = s.properties;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k, x]) => !(x === null && Object.hasOwn(props, k) && !(s.required ?? []).includes(k)))
      .map(([k, x]) => [k, Object.hasOwn(props, k) ? asGiven(props[k], x) : x]),
  );
}

const snapshot = JSON.parse(
  readFileSync(new URL('./__snapshots__/tools-list.json', import.meta.url), 'utf8'),
) as Tool[];
const contract = snapshot.map(withInstructions);

function valid(name: string, s: Schema): unknown {
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'uri') return 'https://example.com/input.png';
      if (s.format === 'date-time') return '2026-01-02T03:04:05Z';
      return 'x'.repeat(Math.max(s.minLength ?? 1, Math.min(8, s.maxLength ?? 8)));
    case 'integer':
    case 'number':
      return s.minimum ?? (s.maximum !== undefined ? Math.min(1, s.maximum) : 1);
    case 'boolean':
      return !(s.not?.enum ?? []).includes(true);
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 0) }, () => valid(name, s.items ?? {}));
    default:
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valid(k, v)]));
  }
}

/** Values that break one constraint of the schema (or its items / fields) each. */
function broken(s: Schema): unknown[] {
  const out: unknown[] = [null];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (s.enum) out.push('__not_a_value__', 987654);
  if (s.not?.enum) out.push(...s.not.enum);
  if (type === 'string') {
    out.push(42);
    if (s.format) out.push('not a url or date');
    if (s.format === 'uri') out.push('ftp://example.com/a.png', 'file:///etc/passwd', 'HTTPS://example.com/a.png');
    if (s.maxLength !== undefined) out.push('y'.repeat(s.maxLength + 1));
    if (s.minLength) out.push('');
  }
  if (type === 'integer' || type === 'number') {
    out.push('7');
    if (type === 'integer') out.push(1.5);
    if (s.minimum !== undefined) out.push(s.minimum - 1);
    if (s.maximum !== undefined) out.push(s.maximum + 1);
  }
  if (type === 'boolean') out.push('true');
  if (type === 'array') {
    out.push('x', [42, 42].slice(0, Math.max(1, s.minItems ?? 1)));
    const item = valid('item', s.items ?? {});
    if (s.maxItems !== undefined) out.push(Array.from({ length: s.maxItems + 1 }, () => item));
    if (s.minItems) out.push([]);
    for (const b of broken(s.items ?? {}).slice(1))
      out.push(Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => b));
  }
  if (type === 'object') {
    out.push('x', [1]);
    const full = valid('o', s) as Record<string, unknown>;
    for (const [k, f] of Object.entries(s.properties ?? {})) for (const b of broken(f)) out.push({ ...full, [k]: b });
    for (const k of s.required ?? []) {
      const rest = { ...full };
      delete rest[k];
      out.push(rest);
    }
  }
  return out;
}

function examples(t: Tool): { args: Record<string, unknown>; why: string }[] {
  const s = t.inputSchema;
  const full = valid(t.name, s) as Record<string, unknown>;
  const minimal = Object.fromEntries((s.required ?? []).map((k) => [k, full[k]]));
  const out = [
    { args: full, why: 'every field valid' },
    { args: minimal, why: 'required fields only' },
  ];
  for (const [k, f] of Object.entries(s.properties ?? {}))
    for (const b of broken(f))
      out.push({ args: { ...full, [k]: b }, why: `${k} = ${JSON.stringify(b)?.slice(0, 40)}` });
  for (const k of s.required ?? []) {
    const rest = { ...full };
    delete rest[k];
    out.push({ args: rest, why: `without ${k}` });
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: false });
addFormats.default(ajv);

let app: App;
let client: Client;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ app, client, close } = await connectInMemory());
});
afterAll(() => close());

describe('listed JSON Schemas and the validator agree on the contract snapshot', () => {
  it('the snapshot is what the server lists', async () => {
    const listed = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(listed).toEqual(snapshot.map((t) => t.name));
  });

  it('catalogue tools: ajv(listed schema) and the zod validator accept and refuse the same examples', () => {
    let checked = 0;
    const disagree: string[] = [];
    for (const t of contract) {
      const spec = app.registry.byName.get(t.name);
      if (!spec) continue;
      const check = ajv.compile(t.inputSchema);
      for (const ex of examples(t)) {
        const listed = check(asGiven(t.inputSchema, ex.args));
        const judged = spec.schema.safeParse(dropNulls(spec.schema, ex.args)).success;
        if (listed !== judged) disagree.push(`${t.name}: ${ex.why}: listed ${listed}, validator ${judged}`);
        checked++;
      }
      // The one intended difference: unknown keys are listed as nothing, and refused.
      const extra = { ...(valid(t.name, t.inputSchema) as object), not_a_param: 1 };
      expect(check(extra)).toBe(true);
      expect(spec.schema.safeParse(extra).success, t.name).toBe(false);
    }
    expect(disagree).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('server tools: the same, through tools/call (BAD_ARGUMENTS or not)', async () => {
    const disagree: string[] = [];
    for (const t of contract.filter((x) => !app.registry.byName.has(x.name))) {
      const check = ajv.compile(t.inputSchema);
      for (const ex of examples(t)) {
        const r = (await client.callTool({ name: t.name, arguments: ex.args })) as CallToolResult;
        // Refused by the validator: BAD_ARGUMENTS with its issues (a handler's own refusal has none).
        const judged = !(r.structuredContent as { issues?: unknown } | undefined)?.issues;
        if (check(asGiven(t.inputSchema, ex.args)) !== judged) disagree.push(`${t.name}: ${ex.why}: listed ${!judged}, validator ${judged}`);
      }
      const r = (await client.callTool({
        name: t.name,
        arguments: { ...(valid(t.name, t.inputSchema) as object), zzz: 1 },
      })) as CallToolResult;
      expect((r.content[0] as { text: string }).text, t.name).toMatch(/unknown argument\(s\) zzz .*; accepted: /);
    }
    expect(disagree).toEqual([]);
  });

  it("server tools' schemas equal what zod-to-json-schema makes of their zod shapes", () => {
    const lean = (n: unknown): unknown => {
      if (Array.isArray(n)) return n.map(lean);
      if (!n || typeof n !== 'object') return n;
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(n))
        if (k !== '$schema' && k !== 'additionalProperties') o[k] = k === 'default' ? v : lean(v);
      return o;
    };
    const shape = {
      a: z.string().min(1).max(9).describe('d'),
      b: z.number().int().min(0).max(5).default(2),
      c: z.enum(['x', 'y']).optional(),
      d: z.record(z.unknown()).default({}),
      e: z.string().datetime({ offset: true }).optional(),
      f: z.boolean().optional(),
      g: z.array(z.string().url()).max(3).optional(),
    };
    expect(shapeSchema(shape)).toEqual(
      lean(zodToJsonSchema(z.object(shape), { target: 'jsonSchema7', $refStrategy: 'none' })),
    );
  });
});
