/**
 * Argument validation with errors that teach: one line per problem naming the field, what was received
 * (excerpted) and what is allowed (enum values, range, length, item count, accepted keys).
 */
import { z, type ZodError, type ZodIssue, type ZodTypeAny } from 'zod';
import { ruleText, type Rule } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';
import type { ToolSpec } from './build.js';
import { NUMBER_ENUMS } from './validator.js';

const EXCERPT = 40;

/** Bound any text we echo: a hostile 5 MB value or 10,000 unknown keys must not come back in full. */
function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Values listed in an error, at most: a 200,000-value enum must not come back whole. */
export const LISTED_VALUES = 20;

/** "a, b, c … and 199,980 more": the first LISTED_VALUES values, each excerpted. */
export function listed(values: readonly unknown[], max = LISTED_VALUES): string {
  const shown = values.slice(0, max).map((v) => clip(String(v), EXCERPT));
  const more = values.length - shown.length;
  return more > 0 ? `${shown.join(', ')} … and ${more} more` : shown.join(', ');
}

/** A short, JSON-ish rendering of a received value. */
export function excerpt(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  const shown = text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text;
  if (typeof value === 'string' && value.length > EXCERPT) return `${shown} (${value.length} characters)`;
  if (Array.isArray(value)) return `${shown} (${value.length} item${value.length === 1 ? '' : 's'})`;
  return shown;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const k of path)
    v = v !== null && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function unwrap(s: ZodTypeAny): ZodTypeAny {
  let cur = s;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) cur = cur.unwrap() as ZodTypeAny;
    else if (cur instanceof z.ZodDefault) cur = cur.removeDefault() as ZodTypeAny;
    else if (cur instanceof z.ZodEffects) cur = cur.innerType() as ZodTypeAny;
    else return cur;
  }
}

/** The schema of the field at a path (object keys and array indexes). */
function schemaAt(root: ZodTypeAny, path: readonly (string | number)[]): ZodTypeAny | undefined {
  let cur: ZodTypeAny | undefined = unwrap(root);
  for (const k of path) {
    if (cur instanceof z.ZodObject)
      cur = Object.hasOwn(cur.shape, k) ? (cur.shape as Record<string, ZodTypeAny>)[k] : undefined;
    else if (cur instanceof z.ZodArray) cur = cur.element as ZodTypeAny;
    else return undefined;
    if (cur) cur = unwrap(cur);
  }
  return cur;
}

function bounds(lo: number | null | undefined, hi: number | null | undefined, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  if (lo != null && hi != null) return lo === hi ? `exactly ${lo}${u}` : `${lo}–${hi}${u}`;
  if (lo != null) return `at least ${lo}${u}`;
  if (hi != null) return `at most ${hi}${u}`;
  return '';
}

/** What the field at this schema allows, in a few words. */
export function allowedText(s: ZodTypeAny | undefined, refinedValues?: readonly unknown[]): string {
  if (refinedValues) return `one of ${listed(refinedValues)}`;
  if (!s) return '';
  const numbers = NUMBER_ENUMS.get(s);
  if (numbers) return `one of ${listed(numbers)}`;
  if (s instanceof z.ZodEnum) return `one of ${listed(s.options as string[])}`;
  if (s instanceof z.ZodObject) return `keys ${listed(Object.keys(s.shape as object))}`;
  if (s instanceof z.ZodString) {
    const url = s.isURL ? 'an http(s) URL' : s.isDatetime ? 'an ISO date-time' : 'a string';
    const len = bounds(s.minLength, s.maxLength, 'characters');
    return len ? `${url} of ${len}` : url;
  }
  if (s instanceof z.ZodNumber) {
    const range = bounds(s.minValue, s.maxValue);
    const kind = s.isInt ? 'an integer' : 'a number';
    return range ? `${kind}, ${range}` : kind;
  }
  if (s instanceof z.ZodArray) {
    const d = s._def;
    const count = bounds(d.minLength?.value, d.maxLength?.value, 'items');
    const of = allowedText(unwrap(s.element as ZodTypeAny));
    return `a list${count ? ` of ${count}` : ''}${of ? `, each ${of}` : ''}`;
  }
  if (s instanceof z.ZodBoolean) return 'true or false';
  if (s instanceof z.ZodRecord) return 'an object';
  return '';
}

function problem(i: ZodIssue): string {
  switch (i.code) {
    case 'invalid_enum_value':
      return 'not an allowed value';
    case 'too_big':
      return i.type === 'string' ? 'too long' : i.type === 'array' ? 'too many items' : 'too large';
    case 'too_small':
      return i.type === 'string' ? 'too short' : i.type === 'array' ? 'too few items' : 'too small';
    case 'invalid_type':
      return i.received === 'undefined' ? 'required' : `expected ${i.expected}, got ${i.received}`;
    case 'invalid_string':
      return i.validation === 'url' ? 'not a URL' : i.message;
    case 'not_multiple_of':
      return `not a multiple of ${String(i.multipleOf)}`;
    case 'custom':
      return i.params?.allowed ? 'not an allowed value' : clip(i.message);
    default:
      return clip(i.message);
  }
}

/** One line per problem: "<field>: <problem> (got <excerpt>); allowed: <what>". */
export function issueLines(err: ZodError, schema: ZodTypeAny, raw: unknown): string[] {
  return err.issues.slice(0, 8).map((i) => {
    const where = i.path.length ? clip(i.path.join('.')) : 'arguments';
    if (i.code === 'unrecognized_keys') {
      const obj = schemaAt(schema, i.path);
      const got = clip(i.keys.map((k) => `${k}=${excerpt(valueAt(raw, [...i.path, k]))}`).join(', '));
      const keys = obj instanceof z.ZodObject ? listed(Object.keys(obj.shape as object)) : '';
      return `${where}: unknown argument(s) ${clip(i.keys.join(', '))} (got ${got}); accepted: ${keys || 'none'}`;
    }
    const refined = i.code === 'custom' ? (i.params?.allowed as unknown[] | undefined) : undefined;
    const allowed = allowedText(schemaAt(schema, i.path), refined);
    const got =
      i.code === 'invalid_type' && i.received === 'undefined' ? '' : ` (got ${excerpt(valueAt(raw, i.path))})`;
    return `${where}: ${problem(i)}${got}${allowed ? `; allowed: ${allowed}` : ''}`;
  });
}

export function badArguments(tool: string, schema: ZodTypeAny, raw: unknown, err: ZodError): MediagenError {
  const lines = issueLines(err, schema, raw);
  const text = lines.length === 1 ? lines[0] : '\n' + lines.join('\n');
  return new MediagenError('BAD_ARGUMENTS', `${tool}: ${text}`, {
    tool,
    issues: err.issues.slice(0, 8).map((i, n) => ({ path: i.path.join('.'), message: lines[n] })),
  });
}

/**
 * An optional field sent as `null` is a field not given (strict clients send null for "not given"): it is
 * dropped here, at every depth of the schema's objects, so the default applies and no null reaches the
 * provider, the confirm token's hash or the idempotency key. A field whose schema accepts null (a
 * catalogue's `nullable` param) keeps it: there null is a value the provider documents.
 */
export function dropNulls(schema: ZodTypeAny, value: unknown): unknown {
  const s = unwrap(schema);
  if (s instanceof z.ZodArray && Array.isArray(value)) return value.map((v) => dropNulls(s.element as ZodTypeAny, v));
  if (!(s instanceof z.ZodObject) || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const shape = s.shape as Record<string, ZodTypeAny>;
  // fromEntries defines own keys: a "__proto__" key stays a key (and is refused as unknown).
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => [k, v, Object.hasOwn(shape, k) ? shape[k] : undefined] as const)
      .filter(([, v, f]) => !(v === null && f?.isOptional() && !f.isNullable()))
      .map(([k, v, f]) => [k, f ? dropNulls(f, v) : v]),
  );
}

/** Validate and apply defaults; BAD_ARGUMENTS on failure (nothing is sent anywhere). */
export function validateArgs(tool: ToolSpec, raw: unknown): Record<string, unknown> {
  const input = dropNulls(tool.schema, raw ?? {});
  const parsed = tool.schema.safeParse(input);
  if (!parsed.success) throw badArguments(tool.name, tool.schema, input, parsed.error);
  const broken = brokenRules(tool.op.rules ?? [], parsed.data);
  if (broken.length)
    throw new MediagenError('BAD_ARGUMENTS', `${tool.name}: ${broken.join('; ')}. Nothing was sent.`, {
      issues: broken.map((message) => ({ path: '', message })),
    });
  return parsed.data;
}

/** "resolution 1080P only when duration is 6s (got 10s)" for each rule the (defaults-applied) arguments break. */
export function brokenRules(rules: readonly Rule[], args: Readonly<Record<string, unknown>>): string[] {
  return rules
    .filter((r) => r.if.in.includes(args[r.if.param] as never) && !r.then.in.includes(args[r.then.param] as never))
    .map((r) => `${ruleText(r)} (got ${r.then.param} ${excerpt(args[r.then.param])})`);
}
