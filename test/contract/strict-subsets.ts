/**
 * The schema subsets of strict clients, written down from their documentation, and the mechanical
 * conversions such a client (or its SDK) applies to a JSON Schema before sending it. Each conversion
 * reports every limit it had to drop (`lost`), so a test can hold the tool list to "nothing lost" with an
 * explicit allow-list of reasons.
 */
type Node = Record<string, unknown>;
export interface Converted {
  schema: Node;
  /** JSON pointers of the limits the conversion could not keep, with the keyword ("#/properties/a: not"). */
  lost: string[];
}

/** Keywords that limit the values a schema accepts (dropping one without an equivalent loses a limit). */
const LIMITS = new Set([
  'enum',
  'const',
  'not',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'required',
]);

const isObj = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);
const typesOf = (n: Node): string[] =>
  Array.isArray(n.type) ? (n.type as string[]) : n.type ? [n.type as string] : [];
const freeForm = (n: Node) => typesOf(n).includes('object') && !isObj(n.properties);

// ---- Gemini ---------------------------------------------------------------------------------------
/**
 * Gemini's `FunctionDeclaration.parameters` is its own Schema object, "a select subset of an OpenAPI 3.0
 * schema object". Source: https://ai.google.dev/api/caching#Schema (fields of Schema) and
 * https://ai.google.dev/gemini-api/docs/function-calling (function declarations).
 */
export const GEMINI_KEYWORDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);
/** Schema.type is one Type (no arrays: null is `nullable: true`). */
export const GEMINI_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);
/** Schema.format: "for NUMBER type: float, double; for INTEGER type: int32, int64; for STRING type: enum, date-time". */
export const GEMINI_FORMATS: Record<string, string[]> = {
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
  string: ['enum', 'date-time'],
};

/**
 * JSON Schema -> Gemini Schema, as Gemini clients do it (gemini-cli, the google-genai SDKs): `[t, "null"]`
 * becomes `t` plus `nullable: true` (and null leaves the enum), a format Gemini does not list is dropped,
 * every keyword outside the subset is dropped. A dropped limit is lost unless the node keeps a `pattern`
 * saying the same (a URL's http(s) pattern stands for its `uri` format).
 */
export function toGemini(n: Node, at = '#'): Converted {
  const lost: string[] = [];
  const out: Node = {};
  const types = typesOf(n).filter((t) => t !== 'null');
  const nullable = typesOf(n).includes('null');
  for (const [k, v] of Object.entries(n)) {
    if (k === 'type') out.type = types.length === 1 ? types[0] : types;
    else if (k === 'enum') {
      // "enum: Possible values of the element of Type.STRING": a number enum cannot be said.
      if (types[0] === 'string') out.enum = (v as unknown[]).filter((x) => x !== null);
      else lost.push(`${at}: enum`);
    } else if (k === 'format') {
      if ((GEMINI_FORMATS[types[0]] ?? []).includes(v as string)) out.format = v;
      else if (!(v === 'uri' && typeof n.pattern === 'string')) lost.push(`${at}: format ${String(v)}`);
    } else if (k === 'properties' && isObj(v)) {
      out.properties = Object.fromEntries(
        Object.entries(v).map(([p, s]) => {
          const c = toGemini(s as Node, `${at}/properties/${p}`);
          lost.push(...c.lost);
          return [p, c.schema];
        }),
      );
    } else if (k === 'items' && isObj(v)) {
      const c = toGemini(v, `${at}/items`);
      lost.push(...c.lost);
      out.items = c.schema;
    } else if (GEMINI_KEYWORDS.has(k)) out[k] = v;
    else if (LIMITS.has(k)) lost.push(`${at}: ${k}`);
  }
  if (nullable) out.nullable = true;
  if (freeForm(n)) lost.push(`${at}: free-form object`);
  return { schema: out, lost };
}

/** What Gemini refuses in a converted schema (empty when it is inside the subset). */
export function geminiProblems(n: Node, at = '#'): string[] {
  const out: string[] = [];
  for (const k of Object.keys(n)) if (!GEMINI_KEYWORDS.has(k)) out.push(`${at}: keyword ${k}`);
  if (typeof n.type !== 'string' || !GEMINI_TYPES.has(n.type)) out.push(`${at}: type ${JSON.stringify(n.type)}`);
  // "enum: Possible values of the element of Type.STRING with enum format."
  if (n.enum !== undefined && (n.type !== 'string' || !(n.enum as unknown[]).every((x) => typeof x === 'string')))
    out.push(`${at}: enum on ${String(n.type)}`);
  if (n.format !== undefined && !(GEMINI_FORMATS[n.type as string] ?? []).includes(n.format as string))
    out.push(`${at}: format ${String(n.format)}`);
  // The API answers 400 "properties: should be non-empty for OBJECT type" (e.g. agno-agi/agno#2112). A tool
  // without parameters is declared without `parameters` (optional in FunctionDeclaration): not refused.
  const empty = !(isObj(n.properties) && Object.keys(n.properties).length);
  if (n.type === 'object' && empty && !(at === '#' && isObj(n.properties)))
    out.push(`${at}: object without properties`);
  for (const [p, s] of Object.entries(isObj(n.properties) ? n.properties : {}))
    out.push(...geminiProblems(s as Node, `${at}/properties/${p}`));
  if (isObj(n.items)) out.push(...geminiProblems(n.items, `${at}/items`));
  return out;
}

// ---- OpenAI strict mode ---------------------------------------------------------------------------
/**
 * Structured Outputs / function calling with `strict: true`: "Supported schemas" in
 * https://platform.openai.com/docs/guides/structured-outputs#supported-schemas - types string, number,
 * boolean, integer, object, array, enum, anyOf (null in a type list); string: pattern, format (the formats
 * below); number: multipleOf, maximum, exclusiveMaximum, minimum, exclusiveMinimum; array: minItems,
 * maxItems; every object `additionalProperties: false`; every property in `required` ("emulate an optional
 * parameter with a union type with null").
 */
export const OPENAI_KEYWORDS = new Set([
  'type',
  'description',
  'title',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$ref',
  '$defs',
  'pattern',
  'format',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'minItems',
  'maxItems',
]);
export const OPENAI_FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
]);

/**
 * JSON Schema -> OpenAI strict, mechanically: what the OpenAI Agents SDK's `ensure_strict_json_schema`
 * does (every object gets `additionalProperties: false` and lists every property as required), plus what
 * it leaves to the schema's author, done the documented way: an optional property becomes `[t, "null"]`
 * (the server reads null as "not given" and applies the default, so `default` goes), a string's length
 * limits move into a `pattern` (`^[\s\S]{min,max}$`) when it has none and they are at most
 * STRICT_LENGTH_MAX (a larger one is lost), a format OpenAI does not list is
 * dropped when a pattern keeps its meaning.
 */
/**
 * The largest length a strict-mode `pattern` is claimed to carry as a `{min,max}` quantifier: OpenAI does
 * not document a limit on counted repetition (and engines do cap it), so a longer limit is reported lost
 * rather than assumed kept.
 */
export const STRICT_LENGTH_MAX = 10_000;

export function toOpenAiStrict(n: Node, at = '#', optional = false): Converted {
  const lost: string[] = [];
  const out: Node = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === 'default') continue;
    if (k === 'minLength' || k === 'maxLength') {
      if (typeof n.pattern === 'string') lost.push(`${at}: ${k}`);
      continue;
    }
    if (k === 'format' && !OPENAI_FORMATS.has(v as string)) {
      if (!(v === 'uri' && typeof n.pattern === 'string')) lost.push(`${at}: format ${String(v)}`);
      continue;
    }
    if (k === 'properties' && isObj(v)) {
      const req = new Set((n.required as string[] | undefined) ?? []);
      out.properties = Object.fromEntries(
        Object.entries(v).map(([p, s]) => {
          const c = toOpenAiStrict(s as Node, `${at}/properties/${p}`, !req.has(p));
          lost.push(...c.lost);
          return [p, c.schema];
        }),
      );
      out.required = Object.keys(v);
    } else if (k === 'items' && isObj(v)) {
      const c = toOpenAiStrict(v, `${at}/items`);
      lost.push(...c.lost);
      out.items = c.schema;
    } else if (k === 'required') continue;
    else if (OPENAI_KEYWORDS.has(k)) out[k] = v;
    else if (LIMITS.has(k)) lost.push(`${at}: ${k}`);
  }
  if (typeof n.pattern !== 'string' && (n.minLength !== undefined || n.maxLength !== undefined)) {
    const fits = (k: 'minLength' | 'maxLength'): number | undefined => {
      if (n[k] === undefined) return undefined;
      if (Number(n[k]) <= STRICT_LENGTH_MAX) return Number(n[k]);
      lost.push(`${at}: ${k}`);
      return undefined;
    };
    const [min, max] = [fits('minLength'), fits('maxLength')];
    if (min !== undefined || max !== undefined) out.pattern = `^[\\s\\S]{${min ?? 0},${max ?? ''}}$`;
  }
  if (typesOf(n).includes('object')) {
    out.additionalProperties = false;
    if (freeForm(n)) {
      // ensure_strict_json_schema makes it `{additionalProperties: false}`: only {} is left of "any keys".
      lost.push(`${at}: free-form object`);
      out.properties = {};
      out.required = [];
    }
  }
  if (optional && !typesOf(n).includes('null')) {
    out.type = [...typesOf(n), 'null'];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return { schema: out, lost };
}

/** What OpenAI strict mode refuses in a schema (empty when it is inside the subset). */
export function openAiProblems(n: Node, at = '#'): string[] {
  const out: string[] = [];
  for (const k of Object.keys(n)) if (!OPENAI_KEYWORDS.has(k)) out.push(`${at}: keyword ${k}`);
  if (n.format !== undefined && !OPENAI_FORMATS.has(n.format as string)) out.push(`${at}: format ${String(n.format)}`);
  if (!typesOf(n).length && n.enum === undefined && n.anyOf === undefined) out.push(`${at}: no type`);
  if (typesOf(n).includes('object')) {
    if (n.additionalProperties !== false) out.push(`${at}: additionalProperties is not false`);
    const keys = Object.keys(isObj(n.properties) ? n.properties : {});
    const req = (n.required as string[] | undefined) ?? [];
    if (keys.length !== req.length || keys.some((k) => !req.includes(k)))
      out.push(`${at}: not every property required`);
  }
  if (Array.isArray(n.enum) && typesOf(n).includes('null') !== n.enum.includes(null))
    out.push(`${at}: enum and type disagree on null`);
  for (const [p, s] of Object.entries(isObj(n.properties) ? n.properties : {}))
    out.push(...openAiProblems(s as Node, `${at}/properties/${p}`));
  if (isObj(n.items)) out.push(...openAiProblems(n.items, `${at}/items`));
  return out;
}

/** Arguments as a strict client sends them: every property of every object present, null when not given. */
export function withNulls(s: Node, v: unknown): unknown {
  if (Array.isArray(v)) return isObj(s.items) ? v.map((x) => withNulls(s.items as Node, x)) : v;
  if (!isObj(v) || !isObj(s.properties)) return v;
  const props = s.properties;
  const filled: Node = Object.fromEntries(Object.keys(props).map((k) => [k, null]));
  for (const [k, x] of Object.entries(v)) filled[k] = Object.hasOwn(props, k) ? withNulls(props[k] as Node, x) : x;
  return filled;
}
