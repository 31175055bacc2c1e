/**
 * Request-body validation the way Phaya's FastAPI/Pydantic v2 stack reports it. The skill only says
 * "Phaya is a FastAPI backend" and never shows an error body, so every failure here is FastAPI's
 * default: HTTP 422 `{"detail": [{type, loc, msg, input, ctx?}, ...]}` with Pydantic v2's wording.
 * Lax-mode coercions a real Pydantic model does are mirrored where they matter: numeric strings
 * pass int/number fields, "true"/"1"/... pass bool fields, but a number never passes a string field
 * (so Sora `n_frames: 10` and Seedance `duration: 8` are 422s, as documented they are strings).
 */
import { isRecord, type JsonBody } from './types.js';

export type Field =
  | { t: 'str'; req?: boolean; min?: number; max?: number; def?: string }
  | { t: 'lit'; values: readonly string[]; req?: boolean; nullable?: boolean; def?: string }
  | { t: 'bool'; def?: boolean }
  | { t: 'int'; req?: boolean; ge?: number; le?: number; def?: number }
  | { t: 'num'; ge?: number; le?: number; def?: number }
  | { t: 'list'; item: Field; req?: boolean; min?: number; max?: number }
  | { t: 'obj'; fields: Fields; req?: boolean }
  | { t: 'strOrStrs'; req?: boolean }
  | { t: 'any'; req?: boolean };
export type Fields = Readonly<Record<string, Field>>;

export interface Issue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export type Validated = { ok: true; value: Record<string, unknown> } | { ok: false; detail: Issue[] };

/** Validate a JSON body against `fields`; the value has documented defaults filled in. */
export function validateBody(body: JsonBody, fields: Fields): Validated {
  if (body.kind === 'invalid') {
    const pos = /position (\d+)/.exec(safeParseError(body.raw))?.[1];
    return fail({
      type: 'json_invalid',
      loc: ['body', pos === undefined ? body.raw.length : Number(pos)],
      msg: 'JSON decode error',
      input: {},
      ctx: { error: 'Expecting value' },
    });
  }
  if (body.kind === 'empty') return fail({ type: 'missing', loc: ['body'], msg: 'Field required', input: null });
  const issues: Issue[] = [];
  const value = checkObject(body.value, fields, ['body'], issues);
  return issues.length > 0 || value === undefined ? { ok: false, detail: issues } : { ok: true, value };
}

function fail(issue: Issue): Validated {
  return { ok: false, detail: [issue] };
}

function safeParseError(raw: string): string {
  try {
    JSON.parse(raw);
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : '';
  }
}

function checkObject(
  input: unknown,
  fields: Fields,
  loc: (string | number)[],
  issues: Issue[],
): Record<string, unknown> | undefined {
  if (!isRecord(input)) {
    issues.push({
      type: 'model_attributes_type',
      loc,
      msg: 'Input should be a valid dictionary or object to extract fields from',
      input,
    });
    return undefined;
  }
  const out: Record<string, unknown> = { ...input };
  for (const [name, field] of Object.entries(fields)) {
    const v = input[name];
    // Optional fields are `Optional[...] = None` or `= <default>` on the model: null means "not given".
    if (v === undefined || (v === null && !('req' in field && field.req) && !(field.t === 'lit' && field.nullable))) {
      if ('req' in field && field.req)
        issues.push({ type: 'missing', loc: [...loc, name], msg: 'Field required', input });
      else if ('def' in field && field.def !== undefined) out[name] = field.def;
      continue;
    }
    out[name] = checkField(v, field, [...loc, name], issues);
  }
  return out;
}

function checkField(v: unknown, f: Field, loc: (string | number)[], issues: Issue[]): unknown {
  const issue = (type: string, msg: string, ctx?: Record<string, unknown>): unknown => {
    issues.push(ctx ? { type, loc, msg, input: v, ctx } : { type, loc, msg, input: v });
    return v;
  };
  switch (f.t) {
    case 'any':
      return v;
    case 'str':
      if (typeof v !== 'string') return issue('string_type', 'Input should be a valid string');
      if (f.min !== undefined && [...v].length < f.min) {
        return issue('string_too_short', `String should have at least ${f.min} character${plural(f.min)}`, {
          min_length: f.min,
        });
      }
      if (f.max !== undefined && [...v].length > f.max) {
        return issue('string_too_long', `String should have at most ${f.max} character${plural(f.max)}`, {
          max_length: f.max,
        });
      }
      return v;
    case 'lit': {
      if (v === null && f.nullable) return v;
      if (typeof v === 'string' && f.values.includes(v)) return v;
      const expected = orList(f.values.map((x) => `'${x}'`));
      return issue('literal_error', `Input should be ${expected}`, { expected });
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      const b = laxBool(v);
      return b === undefined ? issue('bool_type', 'Input should be a valid boolean') : b;
    }
    case 'int':
    case 'num':
      return checkNumber(v, f, issue);
    case 'list': {
      if (!Array.isArray(v)) return issue('list_type', 'Input should be a valid list');
      if (f.min !== undefined && v.length < f.min) {
        return issue(
          'too_short',
          `List should have at least ${f.min} item${plural(f.min)} after validation, not ${v.length}`,
          {
            field_type: 'List',
            min_length: f.min,
            actual_length: v.length,
          },
        );
      }
      if (f.max !== undefined && v.length > f.max) {
        return issue(
          'too_long',
          `List should have at most ${f.max} item${plural(f.max)} after validation, not ${v.length}`,
          {
            field_type: 'List',
            max_length: f.max,
            actual_length: v.length,
          },
        );
      }
      return v.map((item, i) => checkField(item, f.item, [...loc, i], issues));
    }
    case 'obj':
      return checkObject(v, f.fields, loc, issues) ?? v;
    case 'strOrStrs':
      if (typeof v === 'string') return v;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
      issues.push({ type: 'string_type', loc: [...loc, 'str'], msg: 'Input should be a valid string', input: v });
      issues.push({ type: 'list_type', loc: [...loc, 'list[str]'], msg: 'Input should be a valid list', input: v });
      return v;
  }
}

function checkNumber(
  v: unknown,
  f: Extract<Field, { t: 'int' | 'num' }>,
  issue: (type: string, msg: string, ctx?: Record<string, unknown>) => unknown,
): unknown {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) {
    return f.t === 'int'
      ? issue(
          typeof v === 'string' ? 'int_parsing' : 'int_type',
          typeof v === 'string'
            ? 'Input should be a valid integer, unable to parse string as an integer'
            : 'Input should be a valid integer',
        )
      : issue(
          typeof v === 'string' ? 'float_parsing' : 'float_type',
          typeof v === 'string'
            ? 'Input should be a valid number, unable to parse string as a number'
            : 'Input should be a valid number',
        );
  }
  if (f.t === 'int' && !Number.isInteger(n)) {
    return issue('int_from_float', 'Input should be a valid integer, got a number with a fractional part');
  }
  if (f.ge !== undefined && n < f.ge) {
    return issue('greater_than_equal', `Input should be greater than or equal to ${f.ge}`, { ge: f.ge });
  }
  if (f.le !== undefined && n > f.le) {
    return issue('less_than_equal', `Input should be less than or equal to ${f.le}`, { le: f.le });
  }
  return n;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'f', 'n']);

function laxBool(v: unknown): boolean | undefined {
  if (v === 0 || v === 1) return v === 1;
  if (typeof v !== 'string') return undefined;
  const w = v.trim().toLowerCase();
  return TRUE_WORDS.has(w) ? true : FALSE_WORDS.has(w) ? false : undefined;
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

/** Pydantic's way of listing literal choices: `'a', 'b' or 'c'`. */
function orList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
