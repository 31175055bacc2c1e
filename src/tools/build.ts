/**
 * Operation -> ToolSpec: name, listed JSON Schema (built directly from the catalogue), a lazily built
 * strict zod validator, description with a price line, annotations that say only what differs from the
 * MCP defaults. No code per operation.
 */
import { ruleText, type Operation } from '../catalogue/format.js';
import type { LoadedCatalogue } from '../catalogue/load.js';
import { describePrice } from '../guard/price.js';
import { listedInputSchema, type JsonSchema, type ListedGuard } from './json-schema.js';
import { inputValidator, type InputValidator } from './validator.js';

export type { JsonSchema } from './json-schema.js';
export { GUARD_FIELDS } from './validator.js';

/**
 * Tool annotations as listed: only the hints that differ from the MCP defaults (readOnlyHint false,
 * destructiveHint true, idempotentHint false, openWorldHint true).
 */
export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export const ANNOTATION_DEFAULTS = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
} as const;

/** The hints that differ from the defaults; destructive/idempotent only matter when not read-only. */
export function leanAnnotations(h: Required<ToolAnnotations>): ToolAnnotations {
  if (h.readOnlyHint) return h.openWorldHint ? { readOnlyHint: true } : { readOnlyHint: true, openWorldHint: false };
  const out: ToolAnnotations = {};
  for (const k of ['destructiveHint', 'idempotentHint', 'openWorldHint'] as const)
    if (h[k] !== ANNOTATION_DEFAULTS[k]) out[k] = h[k];
  return out;
}

export interface ToolSpec {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchema;
  annotations: ToolAnnotations;
  /** Validates and applies defaults; built on first use. */
  readonly schema: InputValidator;
  op: Operation;
  catalogue: LoadedCatalogue;
  /** Paid: reaches a route that may charge the user. */
  paid: boolean;
  /** Guard fields this tool lists and accepts. */
  guard: ListedGuard;
}

export interface ConsentHint {
  /** Text appended to the price line, e.g. "needs confirmation"; "" when the tool never needs it. */
  (op: Operation, catalogue: LoadedCatalogue): string;
}

export const defaultConsentHint: ConsentHint = (op) => (!op.price || 'unknown' in op.price ? 'needs confirmation' : '');

/** The price line, given the consent note the hint gives for this operation. */
export function priceLine(op: Operation, catalogue: LoadedCatalogue, note: string): string {
  if (!op.price) return '';
  const price = describePrice(op.price, catalogue.currency);
  if (price === 'unknown') return `Price: unknown; ${note || 'needs confirmation'}.`;
  return `Price: ${price}.${note ? ' ' + note.charAt(0).toUpperCase() + note.slice(1) + '.' : ''}`;
}

/** Does the call charge (or create a job)? A fixed price of 0 without a job does neither. */
function charges(op: Operation): boolean {
  return Boolean(op.job) || !op.price || !('credits' in op.price) || op.price.credits > 0;
}

/** A price table answers "unknown" (and so needs consent) unless every argument combination has a row. */
function tableComplete(op: Operation): boolean {
  const price = op.price;
  if (!price) return false;
  const tables =
    'table' in price
      ? [price.table]
      : 'perUnit' in price
        ? [price.perUnit.rate, price.perUnit.upTo].flatMap((a) => (a && typeof a === 'object' ? [a.table] : []))
        : [];
  return tables.every((t) => {
    let combos = 1;
    for (const name of t.by) {
      const p = op.params.find((q) => q.name === name);
      const values = p?.type === 'boolean' ? 2 : p?.enum?.length;
      if (!p || !values || (!p.required && p.default === undefined)) return false;
      combos *= values;
    }
    return Object.keys(t.rows).length >= combos;
  });
}

/**
 * The guard fields a tool can use under the running configuration: confirm_token when a call may need
 * consent (not when the operator switched the prompt off for its provider), idempotency_key when it
 * creates a job or charges.
 */
export function guardOf(
  op: Operation,
  catalogue: LoadedCatalogue,
  note: string,
  promptOff: readonly string[] = [],
): ListedGuard {
  if (op.readOnly) return { confirmToken: false, idempotencyKey: false };
  const off = promptOff.includes(catalogue.provider);
  return {
    confirmToken: !off && (note !== '' || !tableComplete(op)),
    idempotencyKey: charges(op),
  };
}

export function buildTool(
  op: Operation,
  catalogue: LoadedCatalogue,
  hint: ConsentHint = defaultConsentHint,
  promptOff: readonly string[] = [],
): ToolSpec {
  const paid = !op.readOnly;
  const note = paid ? hint(op, catalogue) : '';
  const guard = guardOf(op, catalogue, note, promptOff);
  const lines = [op.summary];
  if (op.rules?.length) lines.push(`Rule: ${op.rules.map(ruleText).join('; ')}.`);
  if (paid) lines.push(priceLine(op, catalogue, note));
  let validator: InputValidator | undefined;
  return {
    name: `${catalogue.provider}_${op.id}`,
    title: op.title,
    description: lines.join('\n'),
    inputSchema: listedInputSchema(op.params, guard),
    annotations: paid ? { destructiveHint: false } : { readOnlyHint: true },
    get schema() {
      return (validator ??= inputValidator(op, guard));
    },
    op,
    catalogue,
    paid,
    guard,
  };
}

export function buildTools(
  catalogues: readonly LoadedCatalogue[],
  hint?: ConsentHint,
  promptOff: readonly string[] = [],
): ToolSpec[] {
  return catalogues.flatMap((c) => c.operations.map((op) => buildTool(op, c, hint, promptOff)));
}
