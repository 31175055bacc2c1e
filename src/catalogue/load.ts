/**
 * Read catalogue files, detect their format, validate them and cross-check them. Any problem stops
 * start-up with one message naming the file and the JSON pointer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ZodError } from 'zod';
import { Catalogue, type Operation, type Param, type PriceExpr } from './format.js';
import { importMediaio, isMediaioCatalogue, MEDIAIO_KEY_ENV, MEDIAIO_PROVIDER } from './mediaio.js';
import { findPlaceholder } from './openapi.js';
import { StartupError } from '../errors.js';

export const TOOL_NAME = /^[a-z0-9_]{1,64}$/;

/** The catalogues shipped in the package's catalogues/ folder. */
export const SHIPPED_CATALOGUES = ['mediaio/c_api_doc_detail.json', 'phaya.json', 'ph0ny.json'].map((f) =>
  fileURLToPath(new URL(`../../catalogues/${f}`, import.meta.url)),
);

export interface LoadedCatalogue extends Catalogue {
  file: string;
  format: 'mediagen' | 'mediaio';
}

export function pointer(path: readonly (string | number)[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function fail(file: string, path: readonly (string | number)[], message: string): never {
  throw new StartupError(`${file}: ${pointer(path) || '/'}: ${message}`);
}

/** Stop with the first zod issue; for a union (price kinds), the deepest issue of its members says most. */
export function zodFail(file: string, err: ZodError): never {
  const issue = err.issues[0];
  const deepest =
    issue.code === 'invalid_union'
      ? issue.unionErrors.flatMap((u) => u.issues).sort((a, b) => b.path.length - a.path.length)[0]
      : undefined;
  const shown = deepest ?? issue;
  return fail(file, shown.path, shown.message);
}

/** A catalogue read but not yet validated: enough to decide whether to validate and build it. */
export interface CatalogueHead {
  file: string;
  format: 'mediagen' | 'mediaio';
  /** Our-format document (Media.io's is imported on first use), not validated yet. */
  readonly input: unknown;
  provider?: string;
  authEnv?: string;
  /** The base URL variable, when the catalogue says it must be set. */
  requiredBaseEnv?: string;
}

function readJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new StartupError(`${file}: /: not valid JSON (${(e as Error).message})`);
  }
}

export function headOf(text: string, file: string): CatalogueHead {
  const doc = readJson(text, file);
  if (isMediaioCatalogue(doc)) {
    let imported: unknown;
    return {
      file,
      format: 'mediaio',
      get input() {
        return (imported ??= importMediaio(doc, file));
      },
      provider: MEDIAIO_PROVIDER,
      authEnv: MEDIAIO_KEY_ENV,
    };
  }
  const raw = (doc ?? {}) as {
    provider?: unknown;
    auth?: { env?: unknown };
    baseUrl?: { env?: unknown; required?: unknown };
  };
  return {
    file,
    format: 'mediagen',
    input: doc,
    provider: typeof raw.provider === 'string' ? raw.provider : undefined,
    authEnv: typeof raw.auth?.env === 'string' ? raw.auth.env : undefined,
    requiredBaseEnv:
      raw.baseUrl?.required === true && typeof raw.baseUrl.env === 'string' ? raw.baseUrl.env : undefined,
  };
}

/** The tool names and toolsets a catalogue would offer, read without validating it (for filter checks). */
export function namesOf(head: CatalogueHead): { names: string[]; toolsets: string[] } {
  const ops = (head.input as { operations?: unknown }).operations;
  const list = Array.isArray(ops) ? (ops as { id?: unknown; tags?: unknown; readOnly?: unknown }[]) : [];
  const p = head.provider ?? '';
  const tags = list.flatMap((o) => [
    ...(Array.isArray(o.tags) ? o.tags.map(String) : []),
    ...(o.readOnly ? ['account'] : []),
  ]);
  return { names: list.map((o) => `${p}_${String(o.id)}`), toolsets: [p, ...tags] };
}

export function parseCatalogue(text: string, file: string): LoadedCatalogue {
  return validateHead(headOf(text, file));
}

/** Validate and cross-check a catalogue that was read with headOf. */
export function validateHead(head: CatalogueHead): LoadedCatalogue {
  const { file, format, input } = head;
  const left = format === 'mediagen' ? findPlaceholder(input) : undefined;
  if (left)
    throw new StartupError(
      `${file}: ${left.pointer}: placeholder left by import-openapi, fill it in: ${left.text.slice(0, 160)}`,
    );
  const parsed = Catalogue.safeParse(input);
  if (!parsed.success) zodFail(file, parsed.error);
  const cat: LoadedCatalogue = { ...parsed.data, file, format };
  crossCheck(cat);
  return cat;
}

function readCatalogueFile(file: string): CatalogueHead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new StartupError(`${file}: /: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return headOf(text, file);
}

export function loadCatalogueFile(file: string): LoadedCatalogue {
  return validateHead(readCatalogueFile(file));
}

export interface LoadResult {
  catalogues: LoadedCatalogue[];
  /** Catalogues read but left unvalidated and unbuilt because `keep` said so (no API key). */
  skipped: CatalogueHead[];
}

/**
 * Load several catalogues and check what must hold across them (unique providers). With `keep`, a
 * catalogue it refuses (a provider without a key) is read but neither validated nor built: start-up pays
 * only for the providers it serves.
 */
export function loadCatalogueSet(files: readonly string[], keep?: (head: CatalogueHead) => boolean): LoadResult {
  const heads = files.map(readCatalogueFile);
  const providers = new Map<string, string>();
  for (const h of heads) {
    if (h.provider === undefined) continue;
    const prev = providers.get(h.provider);
    if (prev) throw new StartupError(`${h.file}: /provider: provider "${h.provider}" is also defined by ${prev}`);
    providers.set(h.provider, h.file);
  }
  const kept = keep ? heads.filter((h) => h.provider === undefined || keep(h)) : heads;
  return { catalogues: kept.map(validateHead), skipped: heads.filter((h) => !kept.includes(h)) };
}

/** Load and validate every catalogue (see loadCatalogueSet). */
export function loadCatalogues(files: readonly string[]): LoadedCatalogue[] {
  return loadCatalogueSet(files).catalogues;
}

function placeholders(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

function checkParams(file: string, base: (string | number)[], op: Operation): void {
  const seen = new Set<string>();
  op.params.forEach((p, j) => {
    const at = [...base, 'params', j];
    if (seen.has(p.name)) fail(file, [...at, 'name'], `duplicate parameter "${p.name}"`);
    seen.add(p.name);
    if (p.type === 'array' && !p.items) fail(file, at, `array parameter "${p.name}" needs "items"`);
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
}

function crossCheck(cat: LoadedCatalogue): void {
  const ids = new Set<string>();
  if (cat.balance) {
    const b = cat.operations.find((o) => o.id === cat.balance?.operation);
    if (!b || !b.readOnly)
      fail(cat.file, ['balance', 'operation'], `"${cat.balance.operation}" is not a read-only operation`);
  }
  cat.operations.forEach((op, i) => {
    const base = ['operations', i];
    const tool = `${cat.provider}_${op.id}`;
    if (!TOOL_NAME.test(tool)) fail(cat.file, [...base, 'id'], `tool name "${tool}" must match ${TOOL_NAME}`);
    if (ids.has(op.id)) fail(cat.file, [...base, 'id'], `duplicate operation id "${op.id}"`);
    ids.add(op.id);
    checkParams(cat.file, base, op);
    if (!op.readOnly && !op.price) fail(cat.file, base, `operation "${op.id}" is not readOnly and has no price`);
    if (op.price) checkPrice(cat.file, [...base, 'price'], op, op.price);
    checkJob(cat.file, base, op);
  });
}
