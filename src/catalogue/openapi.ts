/**
 * `mediagen-mcp import-openapi spec.json --provider NAME`: a draft catalogue in our format from an OpenAPI
 * 3.0/3.1 document. Operations become tools; parameters and JSON request bodies become params with types,
 * enums, defaults, limits and formats; the security scheme becomes the key variable; GET is read-only.
 * What a spec cannot say (prices, job status routes, result fields) is written as a placeholder
 * containing PLACEHOLDER, and the loader refuses a catalogue that still has one (load.ts).
 */
import { readFileSync } from 'node:fs';
import { StartupError } from '../errors.js';
import type { CatalogueInput } from './format.js';

type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';

/** Every unfilled value carries this marker; the loader refuses any string containing it. */
export const PLACEHOLDER = 'FILL IN:';

type Json = Record<string, unknown>;
type ParamOut = Json & { name: string; type: ParamType };
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const ITEMS = new Set(['string', 'number', 'integer', 'object']);

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Follow a local `$ref` (`#/components/...`), a few levels at most. */
function deref(spec: Json, v: unknown, depth = 0): Json {
  if (!isObj(v)) return {};
  const ref = v.$ref;
  if (typeof ref !== 'string' || depth > 8) return v;
  if (!ref.startsWith('#/')) return {};
  let at: unknown = spec;
  for (const part of ref.slice(2).split('/'))
    at = isObj(at) ? at[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return deref(spec, at, depth + 1);
}

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

/** One param (or object field) from a schema. */
function paramOf(spec: Json, name: string, raw: unknown, required: boolean, where?: string): ParamOut {
  const s = deref(spec, raw);
  const { type, nullable } = typeOf(s);
  const t: ParamType =
    type === 'integer' || type === 'number' || type === 'boolean' || type === 'array' || type === 'object'
      ? type
      : 'string';
  const p: ParamOut = { name, type: t };
  if (where) p.in = where;
  if (required) p.required = true;
  const description = typeof s.description === 'string' ? s.description : typeof s.title === 'string' ? s.title : '';
  if (description) p.description = description.replace(/\s+/g, ' ').trim().slice(0, 300);
  const values = Array.isArray(s.enum) ? s.enum : s.const !== undefined ? [s.const] : undefined;
  const plain = values?.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  if (plain?.length && (t === 'string' || t === 'integer' || t === 'number')) p.enum = plain;
  if (s.default !== undefined && s.default !== null) p.default = s.default;
  if (t === 'string' && (s.format === 'uri' || s.format === 'url')) p.format = 'url';
  for (const k of ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems'] as const) {
    const v = num(s[k]);
    if (v !== undefined && !(k === 'maxLength' && v < 1) && !(k === 'maxItems' && v < 1)) p[k] = v;
  }
  if (nullable) p.nullable = true;
  if (t === 'array') {
    const it = deref(spec, s.items);
    const itType = typeOf(it).type ?? 'string';
    p.items =
      itType === 'string' && (it.format === 'uri' || it.format === 'url')
        ? 'url'
        : ITEMS.has(itType)
          ? itType
          : 'string';
    if (p.items === 'object' && isObj(it.properties)) p.properties = fieldsOf(spec, it);
  }
  if (t === 'object' && isObj(s.properties)) p.properties = fieldsOf(spec, s);
  return p;
}

/** Fields of an object schema (one level: deeper objects stay free-form). */
function fieldsOf(spec: Json, s: Json): ParamOut[] {
  const req = Array.isArray(s.required) ? s.required : [];
  return Object.entries(s.properties as Json).map(([k, v]) => {
    const f = paramOf(spec, k, v, req.includes(k));
    delete f.properties;
    return f;
  });
}

function idOf(op: Json, method: string, path: string): string {
  const base = typeof op.operationId === 'string' ? op.operationId : `${method}_${path}`;
  const id = base
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return id || `${method}_operation`;
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const m = /^(.{1,200}?[.!?])(\s|$)/.exec(flat);
  return m ? m[1] : flat.slice(0, 200);
}

/** The key variable and header from the document's (or the first) security scheme. */
function authOf(spec: Json, envKey: string, notes: string[]): CatalogueInput['auth'] {
  const schemes = deref(spec, (spec.components as Json | undefined)?.securitySchemes);
  const first = Array.isArray(spec.security) && isObj(spec.security[0]) ? Object.keys(spec.security[0])[0] : undefined;
  const name = first ?? Object.keys(schemes)[0];
  const s = name ? deref(spec, schemes[name]) : {};
  if (s.type === 'apiKey' && s.in === 'header' && typeof s.name === 'string')
    return { type: 'header', name: s.name, env: envKey };
  if (!(s.type === 'http' && String(s.scheme).toLowerCase() === 'bearer'))
    notes.push(
      `Auth: the spec's security scheme (${name ? JSON.stringify(s.type ?? name) : 'none'}) is not a bearer token or an API-key header; bearer is assumed. Check it.`,
    );
  return { type: 'bearer', env: envKey };
}

const JOB_PLACEHOLDER = {
  idField: `${PLACEHOLDER} dotted path of the job id in the create answer (or delete this job block if the operation answers at once)`,
  status: {
    method: 'GET',
    path: `/${PLACEHOLDER} status route with the job id as a {placeholder}, e.g. /jobs/{job_id}`,
    field: `${PLACEHOLDER} dotted path of the status word`,
  },
  words: {
    running: [`${PLACEHOLDER} the provider's status words`],
    succeeded: [`${PLACEHOLDER} e.g. completed`],
    failed: [`${PLACEHOLDER} e.g. failed`],
  },
  results: [{ field: `${PLACEHOLDER} dotted path of an output URL, e.g. result.video_url`, kind: 'file' }],
};

/** The draft catalogue for an OpenAPI 3.0/3.1 document. */
export function importOpenapi(spec: Json, provider: string, file = 'spec'): CatalogueInput {
  if (typeof spec.openapi !== 'string' || !/^3\.[01]\./.test(spec.openapi))
    throw new StartupError(`${file}: /openapi: expected an OpenAPI 3.0 or 3.1 document`);
  if (!/^[a-z0-9_]{1,20}$/.test(provider))
    throw new StartupError(`--provider ${JSON.stringify(provider)}: lower-case letters, digits, underscores, ≤20`);
  const upper = provider.toUpperCase();
  const info = isObj(spec.info) ? spec.info : {};
  const notes = [
    `Draft written by mediagen-mcp import-openapi from ${file} (${String(info.title ?? 'untitled')} ${String(info.version ?? '')}).`.replace(
      ' )',
      ')',
    ),
    `Every value that starts "FILL IN" must be filled in (the loader refuses the file until then): prices, job status routes, status words and result fields are not in an OpenAPI document.`,
  ];
  const server = Array.isArray(spec.servers) && isObj(spec.servers[0]) ? String(spec.servers[0].url ?? '') : '';
  const operations: Json[] = [];
  const seen = new Set<string>();
  const paths = isObj(spec.paths) ? spec.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(spec, rawItem);
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      if (!isObj(item[method])) continue;
      const op = item[method];
      let id = idOf(op, method, path);
      while (seen.has(id)) id = `${id}_${method}`;
      seen.add(id);
      const params: ParamOut[] = [];
      for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(spec, raw);
        if (typeof p.name !== 'string' || !['path', 'query'].includes(String(p.in))) {
          if (typeof p.name === 'string') notes.push(`${id}: ${String(p.in)} parameter "${p.name}" left out.`);
          continue;
        }
        const out = paramOf(spec, p.name, p.schema, p.required === true || p.in === 'path', String(p.in));
        if (!out.description && typeof p.description === 'string') out.description = p.description.slice(0, 300);
        const dup = params.findIndex((q) => q.name === out.name);
        if (dup >= 0) params[dup] = out;
        else params.push(out);
      }
      const content = (deref(spec, op.requestBody).content ?? {}) as Json;
      const json = Object.entries(content).find(([type]) => /json/i.test(type))?.[1];
      const body = deref(spec, isObj(json) ? json.schema : undefined);
      if (isObj(body.properties)) {
        const req = Array.isArray(body.required) ? body.required : [];
        for (const [k, v] of Object.entries(body.properties)) params.push(paramOf(spec, k, v, req.includes(k), 'body'));
      } else if (Object.keys(content).length)
        notes.push(`${id}: request body (${Object.keys(content).join(', ')}) has no JSON object schema; left out.`);
      const readOnly = method === 'get';
      const text =
        typeof op.description === 'string' ? op.description : typeof op.summary === 'string' ? op.summary : '';
      operations.push({
        id,
        title: typeof op.summary === 'string' && op.summary ? op.summary.slice(0, 100) : id,
        summary: text ? firstSentence(text) : `${method.toUpperCase()} ${path}`,
        ...(Array.isArray(op.tags) ? { tags: op.tags.map((t) => String(t).toLowerCase()) } : {}),
        method: method.toUpperCase(),
        path,
        ...(readOnly ? { readOnly: true } : {}),
        params,
        ...(readOnly
          ? {}
          : {
              price: {
                unknown: `${PLACEHOLDER} {"credits": N}, a table, a per-unit price, or keep "unknown" with the reason`,
              },
              job: JOB_PLACEHOLDER,
            }),
      });
    }
  }
  if (!operations.length) throw new StartupError(`${file}: /paths: no operations`);
  return {
    $schema: 'https://unpkg.com/mediagen-mcp/catalogues/schema.json',
    provider,
    title: String(info.title ?? provider),
    notes,
    baseUrl: {
      env: `${upper}_BASE_URL`,
      default: /^https?:\/\//.test(server) ? server : `https://fill-in.invalid/${PLACEHOLDER} the API base URL`,
    },
    auth: authOf(spec, `${upper}_API_KEY`, notes),
    currency: 'credits',
    operations: operations as CatalogueInput['operations'],
  };
}

/** The first placeholder left in a catalogue document, as a JSON pointer and its text. */
export function findPlaceholder(doc: unknown, at: string[] = []): { pointer: string; text: string } | undefined {
  if (typeof doc === 'string')
    return doc.includes(PLACEHOLDER) ? { pointer: '/' + at.join('/'), text: doc } : undefined;
  if (Array.isArray(doc)) {
    for (const [i, v] of doc.entries()) {
      const hit = findPlaceholder(v, [...at, String(i)]);
      if (hit) return hit;
    }
  } else if (isObj(doc))
    for (const [k, v] of Object.entries(doc)) {
      const hit = findPlaceholder(v, [...at, k]);
      if (hit) return hit;
    }
  return undefined;
}

/** The CLI command: read the spec, write the draft catalogue to stdout. */
export function importOpenapiCommand(argv: readonly string[], write: (s: string) => void): number {
  const file = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--provider');
  const pi = argv.indexOf('--provider');
  const provider = pi >= 0 ? argv[pi + 1] : undefined;
  if (!file || !provider)
    throw new StartupError('usage: mediagen-mcp import-openapi spec.json --provider NAME > my.json');
  let spec: unknown;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StartupError(`${file}: ${(e as Error).message} (a JSON OpenAPI document is expected)`);
  }
  if (!isObj(spec)) throw new StartupError(`${file}: /: expected an object`);
  write(JSON.stringify(importOpenapi(spec, provider, file), null, 2) + '\n');
  return 0;
}
