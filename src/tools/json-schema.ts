/**
 * The JSON Schema of a tool's input as tools/list serves it, built directly from the catalogue (we own
 * the format; no zod -> JSON Schema round trip at start-up). Every enum, default, limit and format stays,
 * written so that strict clients keep it (test/contract/strict-clients.test.ts checks the whole list
 * against JSON Schema 2020-12, Gemini's `parameters` subset and OpenAI's strict mode):
 * - every enum says its `type` (Gemini refuses an enum without one); a nullable one is `[type, "null"]`;
 * - a URL is `format: uri` plus a `pattern` (http or https) and a word in its description: OpenAI's strict
 *   mode and Gemini refuse `uri` (a 400: neither lists that format; client converters strip it, and it must
 *   be stripped before strict use) but both keep `pattern`, and a client that keeps only types and
 *   descriptions still tells the model. The pattern covers the scheme and first host character only (the
 *   validator also refuses whitespace);
 * - no `additionalProperties: false`. The server refuses unknown keys anyway (naming the accepted ones);
 *   Gemini's subset has no such keyword, so listing it would break every tool there; strict converters
 *   (the OpenAI Agents SDK's ensure_strict_json_schema) add it themselves; and it weighs ~5 tokens an object.
 * An optional field may be sent as `null` (what strict clients send for "not given"): the validator drops
 * it before anything else sees the arguments (validate.ts), so no null reaches the provider or the hashes;
 * except for a catalogue param marked `nullable`, whose null is a value (sent and priced as null; the
 * loader refuses such a param with a non-null default).
 * test/contract/schema-agreement.test.ts proves this schema and the lazy zod validator (validator.ts)
 * accept and refuse the same arguments.
 */
import type { Field, Param } from '../catalogue/format.js';

export type JsonSchema = { type: 'object'; properties: Record<string, unknown>; required?: string[] } & Record<
  string,
  unknown
>;

type Node = Record<string, unknown>;
type ParamLike = Field & Partial<Pick<Param, 'properties'>>;

/** Guard fields as listed: explained once in the server instructions, not in every tool. */
export interface ListedGuard {
  confirmToken: boolean;
  idempotencyKey: boolean;
}

/** http:// or https:// then a host character, any case: what the validator's webUrl check accepts. */
export const WEB_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s]';
const URL_WORDS = 'an http or https URL';

/** A URL node: the format for clients that know it, the pattern and the words for those that do not. */
export function urlNode(description?: string): Node {
  return {
    type: 'string',
    format: 'uri',
    pattern: WEB_URL_PATTERN,
    description: description ? `${description} (${URL_WORDS})` : `${URL_WORDS[0].toUpperCase()}${URL_WORDS.slice(1)}.`,
  };
}

function scalar(type: Field['type'], format?: 'url'): Node {
  if (format === 'url') return urlNode();
  return { type };
}

function itemNode(p: ParamLike): Node {
  const items = p.items ?? 'string';
  if (items === 'object') return p.properties ? objectNode(p.properties) : { type: 'object' };
  if (items === 'url') return urlNode();
  return { type: items };
}

function objectNode(fields: readonly Field[]): Node {
  // fromEntries defines own keys: no name can reach the prototype (the loader refuses such names anyway).
  const properties: Record<string, unknown> = Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f)]));
  const required = fields.filter((f) => f.required && f.default === undefined).map((f) => f.name);
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

export function fieldSchema(p: ParamLike): Node {
  let s: Node;
  if (p.enum) {
    s = p.nullable ? { type: [p.type, 'null'], enum: [...p.enum, null] } : { type: p.type, enum: [...p.enum] };
  } else {
    switch (p.type) {
      case 'array':
        s = { type: 'array', items: itemNode(p) };
        if (p.minItems !== undefined) s.minItems = p.minItems;
        if (p.maxItems !== undefined) s.maxItems = p.maxItems;
        break;
      case 'object':
        s = p.properties ? objectNode(p.properties) : { type: 'object' };
        break;
      default:
        s = scalar(p.type, p.type === 'string' ? p.format : undefined);
        // minLength 1 says nothing beside a URL format (a URL is never empty).
        if (p.minLength !== undefined && !(p.format === 'url' && p.minLength === 1)) s.minLength = p.minLength;
        if (p.maxLength !== undefined) s.maxLength = p.maxLength;
        if (p.minimum !== undefined) s.minimum = p.minimum;
        if (p.maximum !== undefined) s.maximum = p.maximum;
    }
    if (p.nullable) s.type = [s.type, 'null'];
  }
  if (p.refuse) s.not = { enum: p.refuse.map((r) => r.value) };
  if (p.description) s.description = s.format === 'uri' ? urlNode(p.description).description : p.description;
  if (p.default !== undefined) s.default = p.default;
  return s;
}

/** The listed input schema of a catalogue tool: its params plus the guard fields it can use. */
export function listedInputSchema(params: readonly Param[], guard: ListedGuard): JsonSchema {
  const node = objectNode(params);
  const properties = node.properties as Record<string, unknown>;
  if (guard.confirmToken) properties.confirm_token = { type: 'string' };
  if (guard.idempotencyKey) properties.idempotency_key = { type: 'string' };
  return { ...node, type: 'object', properties };
}
