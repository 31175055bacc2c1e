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
import { WEB_URL_PATTERN } from '../../src/tools/json-schema.js';
import type { App } from '../../src/app.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

import { asGiven, examples, valid, type Schema, type Tool } from './schema-examples.js';

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

const snapshot = JSON.parse(
  readFileSync(new URL('./__snapshots__/tools-list.json', import.meta.url), 'utf8'),
) as Tool[];
const contract = snapshot.map(withInstructions);

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
        if (check(asGiven(t.inputSchema, ex.args)) !== judged)
          disagree.push(`${t.name}: ${ex.why}: listed ${!judged}, validator ${judged}`);
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
    // A URL adds the http(s) pattern and its words (zod-json-url.test.ts); the rest is zod-to-json-schema's.
    const noUrlPattern = (n: unknown): unknown =>
      JSON.parse(JSON.stringify(n), (k, v: unknown) => {
        if (k === 'pattern' && v === WEB_URL_PATTERN) return undefined;
        if (k === 'description' && v === 'An http or https URL.') return undefined;
        return k === 'description' && typeof v === 'string' ? v.replace(/ \(an http or https URL\)$/, '') : v;
      });
    expect(noUrlPattern(shapeSchema(shape))).toEqual(
      lean(zodToJsonSchema(z.object(shape), { target: 'jsonSchema7', $refStrategy: 'none' })),
    );
  });
});
