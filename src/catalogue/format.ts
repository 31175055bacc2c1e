/**
 * Our catalogue format: the single source of truth for what a provider catalogue may say.
 * Published as catalogues/schema.json (generated from this file by `npm run schema`).
 */
import { z } from 'zod';
import { byKey, keyedUnion } from './keyed-union.js';

const NAME = /^[a-z0-9_]+$/;

/** A table keyed by the values of one or more arguments, joined with "|" in `by` order. */
export const PriceTable = z
  .object({
    by: z.array(z.string()).min(1).describe('Argument names whose values form the row key, in order.'),
    rows: z.record(z.number().nonnegative()).describe('Row key ("720p|8|true" for three arguments) to credits.'),
  })
  .strict();
export type PriceTable = z.infer<typeof PriceTable>;

const Amount = keyedUnion([z.number().nonnegative(), z.object({ table: PriceTable }).strict()], (v) =>
  typeof v === 'number' ? 0 : v && typeof v === 'object' ? 1 : -1,
);

export const PriceExpr = keyedUnion(
  [
    z.object({ credits: z.number().nonnegative(), note: z.string().optional() }).strict(),
    z.object({ table: PriceTable, note: z.string().optional() }).strict(),
    z
      .object({
        perUnit: z
          .object({
            unit: z.string().describe('What one unit is: "second", "minute", "10 MB"...'),
            rate: Amount.describe('Credits per unit: a number, or a table keyed by arguments.'),
            param: z.string().optional().describe('Argument that holds the unit count, when known before the call.'),
            upTo: Amount.optional().describe(
              'Most units the call can use, when the count is not known before the call.',
            ),
            minimum: z.number().nonnegative().optional().describe('Smallest charge in credits.'),
          })
          .strict(),
        note: z.string().optional(),
      })
      .strict(),
    z.object({ unknown: z.string().min(1).describe('Why the price cannot be known before the call.') }).strict(),
  ],
  byKey(['credits', 'table', 'perUnit', 'unknown']),
);
export type PriceExpr = z.infer<typeof PriceExpr>;

export const ParamType = z.enum(['string', 'integer', 'number', 'boolean', 'array', 'object']);

const paramShape = {
  name: z.string().min(1),
  type: ParamType,
  required: z.boolean().default(false),
  description: z.string().optional(),
  enum: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
  default: z.unknown().optional(),
  format: z.enum(['url']).optional(),
  minLength: z.number().int().nonnegative().optional(),
  maxLength: z.number().int().positive().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  items: z.enum(['string', 'url', 'number', 'integer', 'object']).optional(),
  minItems: z.number().int().nonnegative().optional(),
  maxItems: z.number().int().positive().optional(),
  nullable: z.boolean().optional(),
  refuse: z
    .array(z.object({ value: z.union([z.string(), z.number(), z.boolean()]), reason: z.string().min(1) }).strict())
    .min(1)
    .optional()
    .describe('Values the provider documents but this server refuses, each with the reason given to the caller.'),
};

/** A field of an object parameter (one level deep). */
export const Field = z.object(paramShape).strict();
export type Field = z.infer<typeof Field>;

export const Param = z
  .object({
    ...paramShape,
    in: z.enum(['body', 'path', 'query']).default('body'),
    properties: z
      .array(Field)
      .optional()
      .describe('Fields of an object parameter, or of each item of an array of objects ("items": "object").'),
    wire: z
      .object({ true: z.string(), false: z.string() })
      .strict()
      .optional()
      .describe('A boolean the provider wants as strings, e.g. {"true":"True","false":"False"}.'),
  })
  .strict();
export type Param = z.infer<typeof Param>;

export const StatusWords = z
  .object({
    pending: z.array(z.string()).default([]),
    running: z.array(z.string()).default([]),
    succeeded: z.array(z.string()).default([]),
    failed: z.array(z.string()).default([]),
    cancelled: z.array(z.string()).default([]),
  })
  .strict();

export const Route = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().startsWith('/'),
  })
  .strict();

export const JobSpec = z
  .object({
    idField: z.string().describe('Dotted path of the provider job id in the (unwrapped) create response.'),
    status: Route.extend({
      field: z.string().describe('Dotted path of the status word in the status response.'),
    }).strict(),
    cancel: Route.optional(),
    words: StatusWords,
    results: z
      .array(
        z
          .object({
            field: z.string().describe('Dotted path; "a[].b" walks an array.'),
            kind: z
              .enum(['image', 'video', 'audio', 'cover', 'file', 'text', 'id'])
              .describe(
                "cover: the cover image of a video result (its n-th value belongs to the n-th video); shown as the video's thumbnail.",
              ),
          })
          .strict(),
      )
      .default([]),
    errorField: z.string().optional(),
    progressField: z.string().optional(),
    progressScale: z
      .number()
      .positive()
      .default(100)
      .describe('What a finished job reports in progressField: 100 for percent, 1 for a fraction.'),
    pollSeconds: z.number().positive().default(5),
    timeoutMinutes: z.number().positive().default(20),
    webhookParam: z
      .string()
      .optional()
      .describe(
        "Body argument of the create that carries a completion webhook URL. Over HTTP with --public-url, a create without it gets this server's own hook: a hint to poll the job at once.",
      ),
  })
  .strict();
export type JobSpec = z.infer<typeof JobSpec>;

/** "When `if` holds, `then` must hold": a constraint across arguments, checked before any request. */
export const Rule = z
  .object({
    if: z.object({ param: z.string(), in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }).strict(),
    then: z.object({ param: z.string(), in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }).strict(),
  })
  .strict();
export type Rule = z.infer<typeof Rule>;

/** "resolution 1080P only when duration is 6s" */
export function ruleText(r: Rule): string {
  const list = (v: readonly unknown[]) => v.map(String).join(' or ');
  return `${r.if.param} ${list(r.if.in)} only when ${r.then.param} is ${list(r.then.in)}`;
}

export const Operation = z
  .object({
    id: z.string().regex(NAME, 'ids are lower-case letters, digits and underscores'),
    title: z.string().min(1),
    summary: z.string().min(1),
    tags: z.array(z.string()).default([]),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().startsWith('/'),
    baseUrl: z
      .enum(['default', 'root'])
      .default('default')
      .describe('"root": the path is under the host root (the base URL without the catalogue\'s rootPath).'),
    response: z
      .object({
        text: z.string().optional().describe('Dotted path of the answer text in a synchronous response.'),
        charged: z.string().optional().describe('Dotted path of the credits the provider says it charged.'),
      })
      .strict()
      .optional(),
    auth: z.boolean().default(true),
    readOnly: z.boolean().default(false).describe('Free, side-effect-free query (balance, lists, status).'),
    params: z.array(Param).default([]),
    rules: z.array(Rule).optional().describe('Cross-field constraints (e.g. 1080P only when duration is 6s).'),
    price: PriceExpr.optional().describe('Required unless readOnly.'),
    job: JobSpec.optional(),
    disabled: z.string().optional().describe('Why the operation is off unless asked for by name.'),
  })
  .strict();
export type Operation = z.infer<typeof Operation>;

export const Envelope = z
  .object({
    code: z.string().describe('Field holding the result code.'),
    ok: z.array(z.union([z.number(), z.string()])).min(1),
    message: z.string().optional(),
    data: z.string().optional().describe('Field holding the payload.'),
    trace: z.string().optional(),
    errors: z
      .record(z.string())
      .default({})
      .describe('Provider code to our error code (PROVIDER_AUTH, INSUFFICIENT_CREDITS, ...).'),
  })
  .strict();
export type Envelope = z.infer<typeof Envelope>;

/** A request header whose value is an environment variable, sent when its condition holds. */
export const RequestHeader = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9-]+$/),
    env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/),
    when: z
      .array(z.object({ param: z.string(), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }))
      .optional()
      .describe('Sent when any of these arguments has one of its values; omitted: on every request.'),
    required: z
      .boolean()
      .default(false)
      .describe('When the condition holds and the variable is unset, the call is refused before any request.'),
  })
  .strict();
export type RequestHeader = z.infer<typeof RequestHeader>;

export const Catalogue = z
  .object({
    $schema: z.string().optional(),
    provider: z.string().regex(NAME).max(20),
    title: z.string().min(1),
    notes: z.array(z.string()).optional(),
    baseUrl: z
      .object({
        env: z.string(),
        default: z.string().url(),
        rootPath: z
          .string()
          .optional()
          .describe('Suffix of the base URL that "root" operations leave out, e.g. "/api/v1".'),
        required: z
          .boolean()
          .default(false)
          .describe('The variable must be set: the documents publish no host, `default` only shows its shape.'),
      })
      .strict(),
    auth: z.union([
      z.object({ type: z.literal('bearer'), env: z.string() }).strict(),
      z.object({ type: z.literal('header'), name: z.string(), env: z.string() }).strict(),
    ]),
    currency: z.string().default('credits'),
    rateLimit: z
      .object({ requests: z.number().int().positive(), perSeconds: z.number().positive() })
      .strict()
      .optional(),
    consent: z
      .object({
        confirmAbove: z.number().nonnegative().default(5),
        alwaysConfirm: z.array(z.string()).default([]),
      })
      .strict()
      .default({}),
    request: z
      .object({ wrap: z.string().nullable().default(null) })
      .strict()
      .default({}),
    response: z
      .object({
        envelope: Envelope.nullable().default(null),
        errorMessage: z.string().optional().describe('Field of a non-2xx JSON body holding the message.'),
      })
      .strict()
      .default({}),
    headers: z
      .array(RequestHeader)
      .optional()
      .describe('Request headers taken from environment variables (per-engine keys): never logged, redacted.'),
    webhooks: z
      .object({
        secretEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/)
          .optional()
          .describe("Variable an operator may set to the provider's webhook signing secret."),
        unverified: z
          .string()
          .min(1)
          .describe(
            "Why the provider's webhook signatures are not verified here (logged when secretEnv is set). A hook only makes this server poll the job now; its body is never read.",
          ),
      })
      .strict()
      .optional(),
    balance: z
      .object({
        operation: z.string().describe('Id of a free, read-only operation that returns the balance.'),
        field: z.string().describe('Dotted path of the balance in its (unwrapped) response.'),
      })
      .strict()
      .optional(),
    operations: z.array(Operation).min(1),
  })
  .strict();
export type Catalogue = z.infer<typeof Catalogue>;
export type CatalogueInput = z.input<typeof Catalogue>;
