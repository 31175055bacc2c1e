/**
 * Read catalogue files, detect their format, validate them and cross-check them. Any problem stops
 * start-up with one message naming the file and the JSON pointer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ZodError } from 'zod';
import { Catalogue } from './format.js';
import { importMediaio, isMediaioCatalogue, MEDIAIO_KEY_ENV, MEDIAIO_PROVIDER } from './mediaio.js';
import { checkEnvName, checkProviderName } from './check-names.js';
import { crossCheck, detachRecords } from './cross-check.js';
import { fail } from './fail.js';
import { findPlaceholder, tooDeepAt, MAX_JSON_DEPTH } from './walk.js';
import { StartupError } from '../errors.js';

export { pointer } from './fail.js';

export { checkPrice, detachPrice, TOOL_NAME } from './cross-check.js';

/** The catalogues shipped in the package's catalogues/ folder. */
export const SHIPPED_CATALOGUES = ['mediaio/c_api_doc_detail.json', 'phaya.json', 'ph0ny.json'].map((f) =>
  fileURLToPath(new URL(`../../catalogues/${f}`, import.meta.url)),
);

export interface LoadedCatalogue extends Catalogue {
  file: string;
  format: 'mediagen' | 'mediaio';
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

/** Parse a catalogue or overlay; a document nested deeper than any catalogue needs is refused where it gets too deep. */
export function readJson(text: string, file: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new StartupError(`${file}: /: not valid JSON (${(e as Error).message})`);
  }
  const deep = tooDeepAt(doc);
  if (deep) fail(file, deep, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  return doc;
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
  type Head = { id?: unknown; tags?: unknown; readOnly?: unknown };
  const list: Head[] = Array.isArray(ops) ? ops.filter((o): o is Head => o !== null && typeof o === 'object') : [];
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
  if (left) fail(file, left.path, `placeholder left by import-openapi, fill it in: ${left.text.slice(0, 160)}`);
  const parsed = Catalogue.safeParse(input);
  if (!parsed.success) zodFail(file, parsed.error);
  const cat: LoadedCatalogue = detachRecords({ ...parsed.data, file, format });
  crossCheck(cat, file);
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
    checkProviderName(h.file, h.provider);
    checkEnvName(h.file, ['auth', 'env'], h.authEnv);
    checkEnvName(h.file, ['baseUrl', 'env'], h.requiredBaseEnv);
    const prev = providers.get(h.provider);
    if (prev) throw new StartupError(`${h.file}: /provider: provider "${h.provider}" is also defined by ${prev}`);
    providers.set(h.provider, h.file);
  }
  const kept = keep ? heads.filter((h) => h.provider === undefined || keep(h)) : heads;
  const catalogues = kept.map(validateHead);
  // Tool names are unique across catalogues too: provider "a" with id "b_c" and provider "a_b" with id "c".
  const tools = new Map<string, string>();
  for (const c of catalogues)
    c.operations.forEach((op, i) => {
      const tool = `${c.provider}_${op.id}`;
      const prev = tools.get(tool);
      if (prev) fail(c.file, ['operations', i, 'id'], `tool name "${tool}" is also defined by ${prev}`);
      tools.set(tool, c.file);
    });
  return { catalogues, skipped: heads.filter((h) => !kept.includes(h)) };
}

/** Load and validate every catalogue (see loadCatalogueSet). */
export function loadCatalogues(files: readonly string[]): LoadedCatalogue[] {
  return loadCatalogueSet(files).catalogues;
}
