/**
 * `mediagen-mcp import-openapi spec.json --provider NAME`: a draft catalogue in our format from an OpenAPI
 * 3.0/3.1 document. Operations become tools; parameters and JSON request bodies become params with types,
 * enums, defaults, limits and formats; the security scheme becomes the key variable. What a spec cannot say
 * is written as a placeholder containing PLACEHOLDER, and the loader refuses a catalogue that still has one
 * (load.ts): the price of every operation (GET too: nothing in a spec says a call is free or changes
 * nothing), the base URL (the spec's servers are only hints: the key goes there), job status routes and
 * result fields. Names that cannot be served are left out with a note; the spec is untrusted input
 * (openapi-schema.ts).
 */
import { readFileSync } from 'node:fs';
import { StartupError } from '../errors.js';
import type { CatalogueInput } from './format.js';
import { reservedPrefix } from './names.js';
import { admit, isObj, own, paramOf, ptr, schemaOf, type Import, type Json, type ParamOut } from './openapi-schema.js';
import { PLACEHOLDER } from './walk.js';

export { PLACEHOLDER } from './walk.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** An operation id within `max` characters, unique among `seen` (a counter when it is taken). */
function idOf(op: Json, method: string, path: string, max: number, seen: Set<string>): string {
  // Bounded first: the patterns below stay linear, and a 100,000-character operationId is not an id.
  const base = (typeof op.operationId === 'string' ? op.operationId : `${method}_${path}`).slice(0, 200);
  const words =
    base
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+/, '')
      .slice(0, max)
      .replace(/_+$/, '') || `${method}_operation`;
  let id = words;
  for (let n = 2; seen.has(id); n++) id = `${words.slice(0, max - String(n).length - 1).replace(/_+$/, '')}_${n}`;
  seen.add(id);
  return id;
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const m = /^(.{1,200}?[.!?])(\s|$)/.exec(flat);
  return m ? m[1] : flat.slice(0, 200);
}

/** The key variable and header from the document's (or the first) security scheme. */
function authOf(spec: Json, envKey: string, notes: string[]): CatalogueInput['auth'] {
  const schemes = schemaOf(spec, own(spec.components, 'securitySchemes'));
  const first = Array.isArray(spec.security) && isObj(spec.security[0]) ? Object.keys(spec.security[0])[0] : undefined;
  const name = first ?? Object.keys(schemes)[0];
  const s = name ? schemaOf(spec, own(schemes, name)) : {};
  if (s.type === 'apiKey' && s.in === 'header' && typeof s.name === 'string' && /^[A-Za-z0-9-]+$/.test(s.name))
    return { type: 'header', name: s.name, env: envKey };
  if (!(s.type === 'http' && String(s.scheme).toLowerCase() === 'bearer'))
    notes.push(
      `Auth: the spec's security scheme (${name ? JSON.stringify(String(s.type ?? name).slice(0, 80)) : 'none'}) is not a bearer token or an API-key header; bearer is assumed. Check it.`,
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

/** Nothing in a spec says what a call costs, GET included: every operation's price is the operator's to type. */
const PRICE_PLACEHOLDER =
  `${PLACEHOLDER} what one call costs: {"credits": N}, {"credits": 0} if it is free, a table, a per-unit price, ` +
  `or {"unknown": "why"}; for a free call that changes nothing, delete "price" and set "readOnly": true`;

/** The spec's servers, as hints only: a spec's host is not trusted with the key. */
function serverHints(spec: Json): string[] {
  const list = Array.isArray(spec.servers) ? spec.servers.slice(0, 5) : [];
  return list.flatMap((s) => (isObj(s) && typeof s.url === 'string' ? [JSON.stringify(s.url.slice(0, 200))] : []));
}

/** Params of one operation: path and query parameters, then the fields of a JSON object body. */
function paramsOf(im: Import, item: Json, op: Json, id: string, path: string, method: string): ParamOut[] {
  const at = ptr('paths', path, method);
  const params: ParamOut[] = [];
  const shared = Array.isArray(item.parameters) ? item.parameters : [];
  const mine = Array.isArray(op.parameters) ? op.parameters : [];
  const all = [
    ...shared.map((raw, i) => ({ raw, at: ptr('paths', path, 'parameters', i) })),
    ...mine.map((raw, i) => ({ raw, at: `${at}/parameters/${i}` })),
  ];
  for (const { raw, at: where } of all) {
    const p = schemaOf(im.spec, raw);
    if (typeof p.name !== 'string' || !['path', 'query'].includes(String(p.in))) {
      if (typeof p.name === 'string')
        im.notes.push(`${id}: ${String(p.in).slice(0, 40)} parameter ${JSON.stringify(p.name.slice(0, 80))} left out.`);
      continue;
    }
    const required = p.required === true || p.in === 'path';
    if (!admit(im, p.name, required, where)) continue;
    const out = paramOf(im, p.name, p.schema, required, `${where}/schema`, String(p.in));
    if (!out.description && typeof p.description === 'string') out.description = p.description.slice(0, 300);
    const dup = params.findIndex((q) => q.name === out.name);
    if (dup >= 0) params[dup] = out;
    else params.push(out);
  }
  const content = schemaOf(im.spec, op.requestBody).content;
  const types = isObj(content) ? Object.keys(content) : [];
  const json = types.find((type) => /json/i.test(type));
  const bodyAt = `${at}/requestBody/content/${(json ?? '').replace(/~/g, '~0').replace(/\//g, '~1')}/schema`;
  const body = schemaOf(im.spec, json === undefined ? undefined : own(own(content, json), 'schema'));
  if (isObj(body.properties)) {
    const req = Array.isArray(body.required) ? body.required : [];
    for (const [k, v] of Object.entries(body.properties)) {
      const where = `${bodyAt}/properties/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!admit(im, k, req.includes(k), where)) continue;
      if (params.some((q) => q.name === k)) {
        im.notes.push(`${id}: body field "${k}" has the name of a path or query parameter; left out.`);
        continue;
      }
      params.push(paramOf(im, k, v, req.includes(k), where, 'body'));
    }
  } else if (types.length)
    im.notes.push(
      `${id}: request body (${types.slice(0, 5).join(', ').slice(0, 200)}) has no JSON object schema; left out.`,
    );
  return params;
}

/** The draft catalogue for an OpenAPI 3.0/3.1 document. */
export function importOpenapi(spec: Json, provider: string, file = 'spec'): CatalogueInput {
  if (typeof spec.openapi !== 'string' || !/^3\.[01]\./.test(spec.openapi))
    throw new StartupError(`${file}: /openapi: expected an OpenAPI 3.0 or 3.1 document`);
  if (!/^[a-z0-9_]{1,20}$/.test(provider))
    throw new StartupError(`--provider ${JSON.stringify(provider)}: lower-case letters, digits, underscores, ≤20`);
  const reserved = reservedPrefix(provider);
  if (reserved)
    throw new StartupError(
      `--provider "${provider}": reserved for the server's own tools (${reserved}, ${reserved}_…)`,
    );
  const upper = provider.toUpperCase();
  const info = isObj(spec.info) ? spec.info : {};
  const title = (v: unknown, or: string) => (typeof v === 'string' && v ? v.slice(0, 100) : or);
  const im: Import = {
    spec,
    blockers: [],
    notes: [
      `Draft written by mediagen-mcp import-openapi from ${file} (${title(info.title, 'untitled')} ${title(info.version, '')}).`.replace(
        ' )',
        ')',
      ),
      `Every value that starts "FILL IN" must be filled in (the loader refuses the file until then): prices (of every operation, GET included: a spec does not say what a call costs), the base URL, job status routes, status words and result fields are not in an OpenAPI document.`,
    ],
  };
  const hints = serverHints(spec);
  im.notes.push(
    hints.length
      ? `Base URL: the spec lists ${hints.join(', ')}. Hints only: the key goes to this host, so type the one you trust (or set ${upper}_BASE_URL).`
      : `Base URL: the spec lists no servers.`,
  );
  const operations: Json[] = [];
  const seen = new Set<string>();
  const paths = isObj(spec.paths) ? spec.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = schemaOf(spec, rawItem);
    for (const method of METHODS) {
      const op = own(item, method);
      if (!isObj(op)) continue;
      if (!path.startsWith('/')) {
        im.notes.push(`${ptr('paths', path)}: not a path (it does not start with "/"); left out.`);
        break;
      }
      const id = idOf(op, method, path, 64 - provider.length - 1, seen);
      im.blockers = [];
      const params = paramsOf(im, item, op, id, path, method);
      const text =
        typeof op.description === 'string' ? op.description : typeof op.summary === 'string' ? op.summary : '';
      operations.push({
        id,
        title: typeof op.summary === 'string' && op.summary.trim() ? op.summary.trim().slice(0, 100) : id,
        summary: (text.trim() && firstSentence(text)) || `${method.toUpperCase()} ${path.slice(0, 200)}`,
        ...(Array.isArray(op.tags)
          ? { tags: op.tags.slice(0, 20).map((t) => String(t).toLowerCase().slice(0, 60)) }
          : {}),
        method: method.toUpperCase(),
        path,
        params,
        price: { unknown: PRICE_PLACEHOLDER },
        ...(method === 'get' ? {} : { job: JOB_PLACEHOLDER }),
        ...(im.blockers.length
          ? {
              disabled: `${PLACEHOLDER} this operation cannot run as the spec defines it: ${im.blockers.join('; ')}. Delete the operation, or replace this text with why it stays off`,
            }
          : {}),
      });
    }
  }
  if (!operations.length) throw new StartupError(`${file}: /paths: no operations`);
  return {
    $schema: 'https://unpkg.com/mediagen-mcp/catalogues/schema.json',
    provider,
    title: title(info.title, provider),
    notes: im.notes,
    baseUrl: {
      env: `${upper}_BASE_URL`,
      default: `https://fill-in.invalid/${PLACEHOLDER} the API base URL (the spec's servers are in the notes, as hints only)`,
    },
    auth: authOf(spec, `${upper}_API_KEY`, im.notes),
    currency: 'credits',
    operations: operations as CatalogueInput['operations'],
  };
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
