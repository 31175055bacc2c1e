/**
 * Cross-checks of a validated catalogue (what the zod schema alone cannot say): names, unique ids, path
 * placeholders, defaults of their own type, price tables keyed by real parameters and values, job routes.
 * Each refusal names the file and the JSON pointer.
 */
import type { Catalogue, Field, Operation, Param, PriceExpr, PriceTable } from './format.js';
import { checkNames } from './check-names.js';
import { fail } from './fail.js';

export const TOOL_NAME = /^[a-z0-9_]{1,64}$/;

function detached<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, record);
}

/** A price whose tables have no prototype: a row looked up by argument values never finds "constructor". */
export function detachPrice(price: PriceExpr): PriceExpr {
  const table = (t: PriceTable): PriceTable => ({ ...t, rows: detached(t.rows) });
  const amount = <A>(a: A): A =>
    a && typeof a === 'object' && 'table' in a ? { ...a, table: table(a.table as PriceTable) } : a;
  if ('table' in price) return { ...price, table: table(price.table) };
  if ('perUnit' in price) {
    const u = price.perUnit;
    return {
      ...price,
      perUnit: { ...u, rate: amount(u.rate), ...(u.upTo === undefined ? {} : { upTo: amount(u.upTo) }) },
    };
  }
  return price;
}

/** The records a catalogue's values are looked up in (price rows, provider error codes), without prototypes. */
export function detachRecords<C extends Catalogue>(cat: C): C {
  const env = cat.response.envelope;
  return {
    ...cat,
    response: { ...cat.response, envelope: env && { ...env, errors: detached(env.errors) } },
    operations: cat.operations.map((op) => (op.price ? { ...op, price: detachPrice(op.price) } : op)),
  };
}

function placeholders(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

const IS: Record<Param['type'], (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isSafeInteger(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
};

/** A default that is not of its parameter's type would be listed, applied and sent as it is. */
function defaultProblem(p: Param): string | undefined {
  if (p.default === null && p.nullable) return undefined;
  if (!IS[p.type](p.default)) return `default ${JSON.stringify(p.default).slice(0, 80)} is not of type ${p.type}`;
  return undefined;
}

/**
 * A nullable param with a non-null default: a strict client sends null for "not given", and null is a value
 * of a nullable param (kept, sent and priced as null), so such a client would never get the default.
 */
function nullableDefault(file: string, at: (string | number)[], p: Field): void {
  if (p.nullable && p.default !== undefined && p.default !== null)
    fail(
      file,
      [...at, 'default'],
      `"${p.name}" is nullable with default ${JSON.stringify(p.default).slice(0, 80)}: a strict client's null ` +
        '(its "not given") would be sent as null instead of the default; drop "nullable" or make the default null',
    );
}

function checkParams(file: string, base: (string | number)[], op: Operation): void {
  const seen = new Set<string>();
  op.params.forEach((p, j) => {
    const at = [...base, 'params', j];
    if (seen.has(p.name)) fail(file, [...at, 'name'], `duplicate parameter "${p.name}"`);
    seen.add(p.name);
    if (p.type === 'array' && !p.items) fail(file, at, `array parameter "${p.name}" needs "items"`);
    const wrong = p.default === undefined ? undefined : defaultProblem(p);
    if (wrong) fail(file, [...at, 'default'], wrong);
    nullableDefault(file, at, p);
    p.properties?.forEach((f, k) => nullableDefault(file, [...at, 'properties', k], f));
    if (p.enum && p.default !== undefined && !p.enum.includes(p.default as string | number))
      fail(file, [...at, 'default'], `default ${JSON.stringify(p.default)} is not one of the enum values`);
    if (p.properties && p.type !== 'object' && !(p.type === 'array' && p.items === 'object'))
      fail(file, [...at, 'properties'], '"properties" applies to objects and to arrays of objects only');
    if (p.wire && p.type !== 'boolean') fail(file, [...at, 'wire'], '"wire" applies to boolean parameters only');
    if (p.in === 'path' && !op.path.includes(`{${p.name}}`))
      fail(file, [...at, 'in'], `path parameter "${p.name}" does not appear in ${op.path}`);
  });
  (op.rules ?? []).forEach((r, k) => {
    for (const side of ['if', 'then'] as const) {
      const at = [...base, 'rules', k, side];
      const p = op.params.find((q) => q.name === r[side].param);
      if (!p) fail(file, [...at, 'param'], `"${r[side].param}" is not a parameter of "${op.id}"`);
      const bad = p.enum && r[side].in.find((v) => !p.enum?.includes(v as string | number));
      if (bad !== undefined && bad !== false)
        fail(file, [...at, 'in'], `${JSON.stringify(bad)} is not one of the values of "${p.name}"`);
    }
  });
  for (const name of placeholders(op.path)) {
    const p = op.params.find((q) => q.name === name);
    if (!p || p.in !== 'path') fail(file, [...base, 'path'], `{${name}} has no parameter with "in": "path"`);
  }
}

function enumKeys(p: Param): string[] | undefined {
  if (p.type === 'boolean') return ['true', 'false'];
  return p.enum?.map(String);
}

function checkTable(
  file: string,
  at: (string | number)[],
  op: Operation,
  by: string[],
  rows: Record<string, number>,
): void {
  const params = by.map((name, k) => {
    const p = op.params.find((q) => q.name === name);
    if (!p) fail(file, [...at, 'by', k], `"${name}" is not a parameter of ${op.id}`);
    return p;
  });
  for (const key of Object.keys(rows)) {
    const parts = key.split('|');
    if (parts.length !== by.length) fail(file, [...at, 'rows', key], `key needs ${by.length} part(s) joined by "|"`);
    parts.forEach((v, k) => {
      const allowed = enumKeys(params[k]);
      if (allowed && !allowed.includes(v))
        fail(file, [...at, 'rows', key], `"${v}" is not a value of "${by[k]}" (${allowed.join(', ')})`);
    });
  }
}

export function checkPrice(file: string, at: (string | number)[], op: Operation, price: PriceExpr): void {
  if ('table' in price) checkTable(file, [...at, 'table'], op, price.table.by, price.table.rows);
  if ('perUnit' in price) {
    const u = price.perUnit;
    if (typeof u.rate === 'object')
      checkTable(file, [...at, 'perUnit', 'rate', 'table'], op, u.rate.table.by, u.rate.table.rows);
    if (typeof u.upTo === 'object')
      checkTable(file, [...at, 'perUnit', 'upTo', 'table'], op, u.upTo.table.by, u.upTo.table.rows);
    if (u.param && !op.params.some((p) => p.name === u.param))
      fail(file, [...at, 'perUnit', 'param'], `"${u.param}" is not a parameter of ${op.id}`);
  }
}

function checkJob(file: string, base: (string | number)[], op: Operation): void {
  const job = op.job;
  if (!job) return;
  for (const key of ['status', 'cancel'] as const) {
    const route = job[key];
    if (route && placeholders(route.path).length !== 1)
      fail(file, [...base, 'job', key, 'path'], 'a job route needs exactly one {placeholder} for the job id');
  }
  if (job.webhookParam !== undefined) {
    const p = op.params.find((x) => x.name === job.webhookParam);
    if (!p || p.in !== 'body' || p.type !== 'string' || p.format !== 'url' || p.required)
      fail(
        file,
        [...base, 'job', 'webhookParam'],
        `"${job.webhookParam}" must be an optional body parameter of ${op.id} of type string with format url`,
      );
  }
}

export function crossCheck(cat: Catalogue, file: string): void {
  checkNames(file, cat);
  const ids = new Set<string>();
  if (cat.balance) {
    const b = cat.operations.find((o) => o.id === cat.balance?.operation);
    if (!b || !b.readOnly)
      fail(file, ['balance', 'operation'], `"${cat.balance.operation}" is not a read-only operation`);
  }
  cat.operations.forEach((op, i) => {
    const base = ['operations', i];
    const tool = `${cat.provider}_${op.id}`;
    if (!TOOL_NAME.test(tool)) fail(file, [...base, 'id'], `tool name "${tool}" must match ${TOOL_NAME}`);
    if (ids.has(op.id)) fail(file, [...base, 'id'], `duplicate operation id "${op.id}"`);
    ids.add(op.id);
    checkParams(file, base, op);
    if (!op.readOnly && !op.price) fail(file, base, `operation "${op.id}" is not readOnly and has no price`);
    if (op.price) checkPrice(file, [...base, 'price'], op, op.price);
    checkJob(file, base, op);
  });
}
