/**
 * OpenAPI schemas -> our params, for import-openapi. Untrusted input: `$ref` chains are followed with a
 * visited set (a loop is reported, never followed forever), object fields go one level deep (a recursive
 * schema stops there and stays free-form), and a default too deep or too large to list becomes a placeholder.
 * What cannot be expressed becomes a FILL IN placeholder naming the spec's JSON pointer.
 */
import { unsafeParamName } from './names.js';
import { depthOf, PLACEHOLDER } from './walk.js';

export type Json = Record<string, unknown>;
type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
export type ParamOut = Json & { name: string; type: ParamType };

const ITEMS = new Set(['string', 'number', 'integer', 'object']);
/** Longest `$ref` chain followed (a → b → c …); longer chains are treated as loops. */
const MAX_REF_CHAIN = 32;
/** A default is copied when it nests at most this deep and serialises to at most MAX_DEFAULT_CHARS. */
const MAX_DEFAULT_DEPTH = 8;
const MAX_DEFAULT_CHARS = 4_000;

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An own property only: a spec's "constructor" or "__proto__" never reaches Object.prototype. */
export function own(o: unknown, key: string): unknown {
  return isObj(o) && Object.hasOwn(o, key) ? o[key] : undefined;
}

/** "#/paths/~1a~1{id}/get" for a path of keys. */
export function ptr(...parts: (string | number)[]): string {
  return '#' + parts.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** The spec being imported, the notes for the operator, and why the current operation cannot run as it is. */
export interface Import {
  spec: Json;
  notes: string[];
  /** Reset for each operation; any entry makes the operation a FILL IN the operator must decide on. */
  blockers: string[];
}

/** Follow local `$ref`s. A loop or an overlong chain gives `{}` and the ref where it looped. */
export function deref(spec: Json, v: unknown): { s: Json; loop?: string } {
  const seen = new Set<string>();
  let cur = v;
  while (isObj(cur) && typeof cur.$ref === 'string') {
    const ref = cur.$ref;
    if (!ref.startsWith('#/')) return { s: {} };
    if (seen.has(ref) || seen.size >= MAX_REF_CHAIN) return { s: {}, loop: ref.slice(0, 200) };
    seen.add(ref);
    let at: unknown = spec;
    for (const part of ref.slice(2).split('/')) at = own(at, part.replace(/~1/g, '/').replace(/~0/g, '~'));
    cur = at;
  }
  return { s: isObj(cur) ? cur : {} };
}

export const schemaOf = (spec: Json, v: unknown): Json => deref(spec, v).s;

/** The JSON type of a schema, with 3.1's `["string", "null"]` and 3.0's `nullable`. */
function typeOf(s: Json): { type: string | undefined; nullable: boolean } {
  const t = s.type;
  if (Array.isArray(t)) {
    const real = t.filter((x) => x !== 'null');
    return { type: typeof real[0] === 'string' ? real[0] : undefined, nullable: t.includes('null') };
  }
  return { type: typeof t === 'string' ? t : s.properties ? 'object' : undefined, nullable: s.nullable === true };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * The spec's default when it can be listed as it is; one nested too deep or too long to list becomes a
 * placeholder naming where it is (the operator deletes the line or types a shorter default).
 */
function defaultOf(s: Json, at: string): unknown {
  const d = s.default;
  if (d === undefined || d === null) return undefined;
  const text = depthOf(d, MAX_DEFAULT_DEPTH) > MAX_DEFAULT_DEPTH ? undefined : JSON.stringify(d);
  if (text !== undefined && text.length <= MAX_DEFAULT_CHARS) return d;
  return `${PLACEHOLDER} the spec's default at ${at}/default nests deeper than ${MAX_DEFAULT_DEPTH} levels or is longer than ${MAX_DEFAULT_CHARS} characters; delete this line or type a shorter default`;
}

/**
 * One param (or, at `field` level, one field of an object param) from a schema at spec pointer `at`.
 * Fields carry no properties of their own: an object inside an object stays free-form, which also stops
 * a recursive schema (a tree whose children are trees) after one level.
 */
export function paramOf(
  im: Import,
  name: string,
  raw: unknown,
  required: boolean,
  at: string,
  where?: string,
  field = false,
): ParamOut {
  const { s, loop } = deref(im.spec, raw);
  const { type, nullable } = typeOf(s);
  const t: ParamType =
    type === 'integer' || type === 'number' || type === 'boolean' || type === 'array' || type === 'object'
      ? type
      : 'string';
  const p: ParamOut = { name, type: t };
  if (where) p.in = where;
  if (required) p.required = true;
  const description = typeof s.description === 'string' ? s.description : typeof s.title === 'string' ? s.title : '';
  if (loop)
    p.description = `${PLACEHOLDER} the schema at ${at} is a $ref loop (${loop}) with no type; give this parameter its type and a description`;
  else if (description) p.description = description.replace(/\s+/g, ' ').trim().slice(0, 300);
  const values = Array.isArray(s.enum) ? s.enum : s.const !== undefined ? [s.const] : undefined;
  const plain = values?.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  if (plain?.length && (t === 'string' || t === 'integer' || t === 'number')) p.enum = plain;
  const dflt = defaultOf(s, at);
  if (dflt !== undefined) p.default = dflt;
  if (t === 'string' && (s.format === 'uri' || s.format === 'url')) p.format = 'url';
  for (const k of ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems'] as const) {
    const v = num(s[k]);
    if (v !== undefined && !(k === 'maxLength' && v < 1) && !(k === 'maxItems' && v < 1)) p[k] = v;
  }
  if (nullable) p.nullable = true;
  if (t === 'array') {
    const it = schemaOf(im.spec, s.items);
    const itType = typeOf(it).type ?? 'string';
    p.items =
      itType === 'string' && (it.format === 'uri' || it.format === 'url')
        ? 'url'
        : ITEMS.has(itType)
          ? itType
          : 'string';
    if (!field && p.items === 'object' && isObj(it.properties)) p.properties = fieldsOf(im, it, `${at}/items`);
  }
  if (!field && t === 'object' && isObj(s.properties)) p.properties = fieldsOf(im, s, at);
  return p;
}

/**
 * Whether a spec's parameter or field name can be served. A name that cannot (`constructor`, `__proto__`,
 * `filter[id]`...) is left out with a note; when it is required, the operation is blocked: it cannot run
 * without it (our format has no separate wire name to rename it to).
 */
export function admit(im: Import, name: string, required: boolean, at: string): boolean {
  const why = unsafeParamName(name);
  if (!why) return true;
  im.notes.push(`${at}: left out: ${why}.`);
  if (required) im.blockers.push(`required ${JSON.stringify(name.slice(0, 80))} (${at}) was left out: ${why}`);
  return false;
}

/** Fields of an object schema (one level: deeper objects stay free-form). */
function fieldsOf(im: Import, s: Json, at: string): ParamOut[] {
  const req = Array.isArray(s.required) ? s.required : [];
  return Object.entries(s.properties as Json).flatMap(([k, v]) => {
    const where = `${at}/properties/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!admit(im, k, req.includes(k), where)) return [];
    return [paramOf(im, k, v, req.includes(k), where, undefined, true)];
  });
}
