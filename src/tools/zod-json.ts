/**
 * The listed JSON Schema of a server-level tool (quote, jobs_*, ...) from its small zod shape, for the
 * subset those shapes use. Start-up does not load zod-to-json-schema; a test checks this agrees with it.
 */
import { z, type ZodRawShape, type ZodTypeAny } from 'zod';
import { urlNode, type JsonSchema } from './json-schema.js';

type Node = Record<string, unknown>;

/** A `.url()` string is listed as catalogue URLs are: format uri, the http(s) pattern and the words. */
function stringNode(s: z.ZodString): Node {
  const n: Node = s.isURL ? urlNode() : { type: 'string' };
  for (const c of s._def.checks) {
    if (c.kind === 'min') n.minLength = c.value;
    else if (c.kind === 'max') n.maxLength = c.value;
    else if (c.kind === 'datetime') n.format = 'date-time';
  }
  return n;
}

function numberNode(s: z.ZodNumber): Node {
  const n: Node = { type: s.isInt ? 'integer' : 'number' };
  for (const c of s._def.checks) {
    if (c.kind === 'min') n[c.inclusive ? 'minimum' : 'exclusiveMinimum'] = c.value;
    else if (c.kind === 'max') n[c.inclusive ? 'maximum' : 'exclusiveMaximum'] = c.value;
  }
  return n;
}

function node(s: ZodTypeAny): { schema: Node; optional: boolean } {
  let cur = s;
  let optional = false;
  let def: { value: unknown } | undefined;
  const description = s.description;
  for (;;) {
    if (cur instanceof z.ZodOptional) {
      optional = true;
      cur = cur.unwrap() as ZodTypeAny;
    } else if (cur instanceof z.ZodDefault) {
      optional = true;
      def = { value: (cur._def as { defaultValue: () => unknown }).defaultValue() };
      cur = cur.removeDefault() as ZodTypeAny;
    } else if (cur instanceof z.ZodEffects) {
      // A refinement (validator.ts webUrl: http(s) only) lists as its inner type.
      cur = cur.innerType() as ZodTypeAny;
    } else break;
  }
  let schema: Node;
  if (cur instanceof z.ZodString) schema = stringNode(cur);
  else if (cur instanceof z.ZodNumber) schema = numberNode(cur);
  else if (cur instanceof z.ZodBoolean) schema = { type: 'boolean' };
  else if (cur instanceof z.ZodEnum) schema = { type: 'string', enum: [...(cur.options as string[])] };
  else if (cur instanceof z.ZodRecord) schema = { type: 'object' };
  else if (cur instanceof z.ZodArray) {
    schema = { type: 'array', items: node(cur.element as ZodTypeAny).schema };
    if (cur._def.minLength) schema.minItems = cur._def.minLength.value;
    if (cur._def.maxLength) schema.maxItems = cur._def.maxLength.value;
  } else if (cur instanceof z.ZodObject) schema = shapeSchema(cur.shape as ZodRawShape);
  else throw new Error(`zod-json: unsupported ${cur.constructor.name}`);
  if (def) schema.default = def.value;
  const said = description ?? cur.description;
  if (said) schema.description = schema.format === 'uri' ? urlNode(said).description : said;
  return { schema, optional };
}

export function shapeSchema(shape: ZodRawShape): JsonSchema {
  const nodes = Object.entries(shape).map(([k, v]) => [k, node(v)] as const);
  const properties: Record<string, unknown> = Object.fromEntries(nodes.map(([k, n]) => [k, n.schema]));
  const required = nodes.filter(([, n]) => !n.optional).map(([k]) => k);
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}
