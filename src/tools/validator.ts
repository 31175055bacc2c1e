/**
 * The zod validator of a catalogue tool: the single judge of its input (strict: unknown keys are
 * refused). Built lazily on a tool's first call and cached, so start-up pays only for the JSON Schema.
 */
import { z, type ZodTypeAny } from 'zod';
import type { Field, Operation, Param } from '../catalogue/format.js';
import type { ListedGuard } from './json-schema.js';

export type InputValidator = z.ZodObject<Record<string, ZodTypeAny>>;
type ParamLike = Field & Partial<Pick<Param, 'properties'>>;

/** The allowed values of number enums (a refined number), for errors that name them. */
export const NUMBER_ENUMS = new WeakMap<ZodTypeAny, readonly (string | number)[]>();

/** Extra arguments of the cost guard, on the tools that can use them. */
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

/**
 * URL arguments are sent to providers that fetch them: http(s) only (no file:, javascript:, gopher:…), and
 * no whitespace anywhere (the WHATWG parser behind zod's url() would take "https://a.example/a b.png" and
 * the provider would get the raw space; format uri refuses it).
 */
export function webUrl<T extends ZodTypeAny>(s: T): ZodTypeAny {
  return s.refine((v) => typeof v !== 'string' || /^https?:\/\/[^/?#\s]\S*$/i.test(v), {
    message: 'must be an http:// or https:// URL',
  });
}

function objectSchema(fields: readonly Field[]): ZodTypeAny {
  return z.object(Object.fromEntries(fields.map((f) => [f.name, paramSchema(f)]))).strict();
}

function itemSchema(p: ParamLike): ZodTypeAny {
  switch (p.items ?? 'string') {
    case 'url':
      return webUrl(z.string().url());
    case 'number':
      return z.number();
    case 'integer':
      return z.number().int();
    case 'object':
      return p.properties ? objectSchema(p.properties) : z.record(z.unknown());
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

/** A number enum is one check with its allowed values (not a union that can only say "Invalid input"). */
function numberSchema(p: Field): ZodTypeAny {
  let n = p.type === 'integer' ? z.number().int() : z.number();
  if (p.enum) {
    const allowed = p.enum;
    NUMBER_ENUMS.set(n, allowed);
    return n.refine((v) => allowed.includes(v), { params: { allowed } });
  }
  if (p.minimum !== undefined) n = n.min(p.minimum);
  if (p.maximum !== undefined) n = n.max(p.maximum);
  return n;
}

export function paramSchema(p: ParamLike): ZodTypeAny {
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
      let a = z.array(itemSchema(p));
      if (p.minItems !== undefined) a = a.min(p.minItems);
      if (p.maxItems !== undefined) a = a.max(p.maxItems);
      s = a;
      break;
    }
    default:
      s = p.properties ? objectSchema(p.properties) : z.record(z.unknown());
  }
  if (p.nullable) s = s.nullable();
  const refused = p.refuse;
  if (refused) {
    s = s.superRefine((v, ctx) => {
      const r = refused.find((x) => x.value === v);
      if (r)
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(r.value)} is refused: ${r.reason}` });
    });
  }
  if (p.description) s = s.describe(p.description);
  if (p.default !== undefined) return s.default(p.default);
  return p.required ? s : s.optional();
}

/** Parameters a caller sets (path and body alike) plus the guard fields listed for this tool. */
export function inputValidator(op: Operation, guard: ListedGuard): InputValidator {
  const shape: Record<string, ZodTypeAny> = {};
  for (const p of op.params) shape[p.name] = paramSchema(p);
  if (guard.confirmToken) shape.confirm_token = GUARD_FIELDS.confirm_token;
  if (guard.idempotencyKey) shape.idempotency_key = GUARD_FIELDS.idempotency_key;
  return z.object(shape).strict();
}
