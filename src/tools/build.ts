/**
 * Operation -> ToolSpec: name, strict zod input schema, lean JSON Schema, description with a price
 * line, explicit annotations. No code per operation.
 */
import { z, type ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { Field, Operation, Param } from '../catalogue/format.js';
import type { LoadedCatalogue } from '../catalogue/load.js';
import { describePrice } from '../guard/price.js';

export type JsonSchema = { type: 'object'; properties: Record<string, unknown>; required?: string[] } & Record<
  string,
  unknown
>;

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolSpec {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchema;
  annotations: ToolAnnotations;
  /** Validates and applies defaults. */
  schema: z.ZodObject<Record<string, ZodTypeAny>>;
  op: Operation;
  catalogue: LoadedCatalogue;
  /** Paid: reaches a route that may charge the user. */
  paid: boolean;
}

/** Extra arguments every paid tool accepts (the cost guard's). */
export const GUARD_FIELDS = {
  confirm_token: z
    .string()
    .max(512)
    .optional()
    .describe('Token from a CONFIRMATION_REQUIRED reply, after the user approved.'),
  idempotency_key: z
    .string()
    .min(8)
    .max(128)
    .optional()
    .describe('Same key + same arguments returns the job already created instead of paying again.'),
};

/** A free-form object, declared as such (JSON Schema: "type": "object", "additionalProperties": true). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- zod's own type for z.object({})
export function freeObject(): z.ZodObject<{}, 'passthrough'> {
  return z.object({}).passthrough();
}

/** An object with exactly these fields (unknown keys refused). */
function fieldsObject(fields: readonly Field[]): ZodTypeAny {
  return z.object(Object.fromEntries(fields.map((f) => [f.name, paramSchema(f)]))).strict();
}

/** URL arguments are sent to providers that fetch them: http(s) only (no file:, javascript:, gopher:…). */
export function webUrl<T extends ZodTypeAny>(s: T): ZodTypeAny {
  return s.refine((v) => typeof v !== 'string' || /^https?:\/\/[^/?#\s]/i.test(v), {
    message: 'must be an http:// or https:// URL',
  });
}

function itemSchema(items: NonNullable<Param['items']>): ZodTypeAny {
  switch (items) {
    case 'url':
      return webUrl(z.string().url());
    case 'number':
      return z.number();
    case 'integer':
      return z.number().int();
    case 'object':
      return freeObject();
    default:
      return z.string();
  }
}

function stringSchema(p: Field): ZodTypeAny {
  if (p.enum && p.enum.every((v): v is string => typeof v === 'string')) {
    return z.enum(p.enum as [string, ...string[]]);
  }
  let s = z.string();
  if (p.format === 'url') s = s.url();
  if (p.minLength !== undefined) s = s.min(p.minLength);
  if (p.maxLength !== undefined) s = s.max(p.maxLength);
  return p.format === 'url' ? webUrl(s) : s;
}

function numberSchema(p: Field): ZodTypeAny {
  if (p.enum) {
    const lits = p.enum.map((v) => z.literal(v));
    return lits.length === 1 ? lits[0] : z.union(lits as unknown as [ZodTypeAny, ZodTypeAny, ...ZodTypeAny[]]);
  }
  let n = p.type === 'integer' ? z.number().int() : z.number();
  if (p.minimum !== undefined) n = n.min(p.minimum);
  if (p.maximum !== undefined) n = n.max(p.maximum);
  return n;
}

export function paramSchema(p: Field & Partial<Pick<Param, 'properties' | 'itemProperties'>>): ZodTypeAny {
  let s: ZodTypeAny;
  switch (p.type) {
    case 'string':
      s = stringSchema(p);
      break;
    case 'integer':
    case 'number':
      s = numberSchema(p);
      break;
    case 'boolean':
      s = z.boolean();
      break;
    case 'array': {
      let a = z.array(p.itemProperties ? fieldsObject(p.itemProperties) : itemSchema(p.items ?? 'string'));
      if (p.minItems !== undefined) a = a.min(p.minItems);
      if (p.maxItems !== undefined) a = a.max(p.maxItems);
      s = a;
      break;
    }
    default:
      s = p.properties ? fieldsObject(p.properties) : freeObject();
  }
  if (p.nullable) s = s.nullable();
  if (p.description) s = s.describe(p.description);
  if (p.default !== undefined) return s.default(p.default);
  return p.required ? s : s.optional();
}

/** Parameters a caller sets (path and body alike); zod object is strict: unknown keys are refused. */
export function inputSchema(op: Operation, paid: boolean): z.ZodObject<Record<string, ZodTypeAny>> {
  const shape: Record<string, ZodTypeAny> = {};
  for (const p of op.params) shape[p.name] = paramSchema(p);
  if (paid) Object.assign(shape, GUARD_FIELDS);
  return z.object(shape).strict();
}

/** zod -> JSON Schema as clients see it, without the noise ($schema, empty defaults). */
export function toJsonSchema(schema: ZodTypeAny): JsonSchema {
  const js = zodToJsonSchema(schema, { target: 'jsonSchema7', $refStrategy: 'none' }) as Record<string, unknown>;
  delete js.$schema;
  return lean(js) as JsonSchema;
}

/**
 * Every token of tools/list is paid on every conversation: drop what a schema says twice ("type" beside
 * an enum, minLength 1 beside a URL format). Nothing a caller needs is lost; validation is unchanged.
 */
function lean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(lean);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>))
    out[k] = k === 'enum' || k === 'default' ? v : lean(v);
  if (Array.isArray(out.enum) && typeof out.type === 'string') delete out.type;
  if (out.format === 'uri' && out.minLength === 1) delete out.minLength;
  const props = out.properties;
  if (out.additionalProperties === true && props && typeof props === 'object' && Object.keys(props).length === 0)
    delete out.properties; // a free-form object: {"type": "object", "additionalProperties": true}
  return out;
}

/** The guard fields as listed: explained once in the server instructions, not in every tool. */
const LISTED_GUARD_FIELDS = { confirm_token: { type: 'string' }, idempotency_key: { type: 'string' } };

export interface ConsentHint {
  /** Text appended to the price line, e.g. "Needs your confirmation." */
  (op: Operation, catalogue: LoadedCatalogue): string;
}

export const defaultConsentHint: ConsentHint = (op) => (!op.price || 'unknown' in op.price ? 'needs confirmation' : '');

export function priceLine(op: Operation, catalogue: LoadedCatalogue, hint: ConsentHint): string {
  if (!op.price) return '';
  const price = describePrice(op.price, catalogue.currency);
  const note = hint(op, catalogue);
  if (price === 'unknown') return `Price: unknown; ${note || 'needs confirmation'}.`;
  return `Price: ${price}.${note ? ' ' + note.charAt(0).toUpperCase() + note.slice(1) + '.' : ''}`;
}

function listedSchema(schema: z.ZodObject<Record<string, ZodTypeAny>>, paid: boolean): JsonSchema {
  const js = toJsonSchema(schema);
  if (paid) Object.assign(js.properties, LISTED_GUARD_FIELDS);
  return js;
}

export function buildTool(op: Operation, catalogue: LoadedCatalogue, hint: ConsentHint = defaultConsentHint): ToolSpec {
  const paid = !op.readOnly;
  const schema = inputSchema(op, paid);
  const lines = [op.summary];
  if (paid) lines.push(priceLine(op, catalogue, hint));
  return {
    name: `${catalogue.provider}_${op.id}`,
    title: op.title,
    description: lines.join('\n'),
    inputSchema: listedSchema(schema, paid),
    annotations: {
      readOnlyHint: op.readOnly,
      destructiveHint: false,
      idempotentHint: op.readOnly,
      openWorldHint: true,
    },
    schema,
    op,
    catalogue,
    paid,
  };
}

export function buildTools(catalogues: readonly LoadedCatalogue[], hint?: ConsentHint): ToolSpec[] {
  return catalogues.flatMap((c) => c.operations.map((op) => buildTool(op, c, hint)));
}
