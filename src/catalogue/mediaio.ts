/**
 * Media.io importer: reads the upstream `c_api_doc_detail.json` exactly as published (a bare array whose
 * sub-documents are JSON stored as strings) and maps it to our catalogue format.
 */
import { ruleText, type CatalogueInput, type Param, type Rule } from './format.js';
import { StartupError } from '../errors.js';
import { unsafeParamName } from './names.js';

type ParamInput = Omit<Param, 'in' | 'required'> & { in?: Param['in']; required?: boolean };
type OperationInput = CatalogueInput['operations'][number];

export interface UpstreamParam {
  name: string;
  type: string;
  describe?: string;
  required?: boolean;
  keywords?: string[];
}

const RESULT_CATEGORY = 'Query Task Result';
const NO_PRICE = 'Media.io publishes no per-operation prices; an operator can set them with --prices';

/** True when the parsed JSON looks like Media.io's catalogue rather than ours. */
/** Provider name and key variable of every Media.io catalogue (known without importing it). */
export const MEDIAIO_PROVIDER = 'mediaio';
export const MEDIAIO_KEY_ENV = 'MEDIAIO_API_KEY';

export function isMediaioCatalogue(doc: unknown): doc is unknown[] {
  return (
    Array.isArray(doc) &&
    doc.length > 0 &&
    doc.every((e) => typeof e === 'object' && e !== null && 'model_code' in e && 'api_body' in e)
  );
}

function fail(file: string, pointer: string, message: string): never {
  throw new StartupError(`${file}: ${pointer}: ${message}`);
}

function str(entry: Record<string, unknown>, key: string, file: string, ptr: string): string {
  const v = entry[key];
  if (typeof v !== 'string' || v === '') fail(file, `${ptr}/${key}`, 'expected a non-empty string');
  return v;
}

function subDocument(entry: Record<string, unknown>, key: string, file: string, ptr: string): Record<string, unknown> {
  const raw = str(entry, key, file, ptr);
  try {
    const doc: unknown = JSON.parse(raw);
    if (typeof doc === 'object' && doc !== null) return doc as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  return fail(file, `${ptr}/${key}`, 'expected a JSON object stored as a string');
}

function upstreamParams(
  body: Record<string, unknown>,
  file: string,
  ptr: string,
): {
  category: string;
  list: UpstreamParam[];
} {
  const cats = body.category;
  if (!Array.isArray(cats) || cats.length === 0) fail(file, `${ptr}/api_body`, 'expected category[] with one entry');
  const cat = (cats[0] ?? {}) as { title?: unknown; list?: unknown };
  if (!Array.isArray(cat.list)) fail(file, `${ptr}/api_body`, 'expected category[0].list to be an array');
  cat.list.forEach((p: unknown, i: number) => {
    const o = p as Record<string, unknown>;
    const at = `category[0].list[${i}]`;
    if (typeof o?.name !== 'string' || typeof o.type !== 'string')
      fail(file, `${ptr}/api_body`, `${at} needs a string name and type`);
    const unsafe = unsafeParamName(o.name);
    if (unsafe) fail(file, `${ptr}/api_body`, `${at}.name: ${unsafe}`);
    if (o.describe !== undefined && typeof o.describe !== 'string')
      fail(file, `${ptr}/api_body`, `${at}.describe must be a string`);
    if (o.keywords !== undefined && !(Array.isArray(o.keywords) && o.keywords.every((k) => typeof k === 'string')))
      fail(file, `${ptr}/api_body`, `${at}.keywords must be a list of strings`);
  });
  return { category: typeof cat.title === 'string' ? cat.title : '', list: cat.list as UpstreamParam[] };
}

/** Condense the upstream prose to the facts a caller needs, dropping what the schema already says. */
export function condense(describe: string): string {
  const s = describe
    .replace(/Options: [^.]*\.\s*/g, '')
    .replace(/Default is [^.]*\.\s*/g, '')
    .replace(/Maximum string length: \d+\.\s*/g, '')
    .replace(/Maximum \d+ file\(s\)\.\s*/g, '')
    .replace(/^The text prompt describing the content to generate\.\s*/, '')
    .replace(/^(Output resolution|Output size|Target aspect ratio|Video duration in seconds)\.\s*/, '')
    .replace(/^[\w ]+ parameter\.\s*/, '')
    .replace(/^The URLs? of the input \w+\.\s*/, '')
    .replace(/Supported formats include ([^.]*)\.\s*/, (_m, f: string) => formats(f) + ', ')
    .replace(/File size must be between [\d.]+ MB and ([\d.]+) MB\.\s*/, (_m, mb: string) => `max ${Number(mb)} MB, `)
    .replace(/(?:Image|Video) resolution must be between (\d+)x\1 and (\d+)x\2\.\s*/, '$1-$2 px, ')
    .replace(/(?:Image|Video) resolution must be between (\d+x\d+) and (\d+x\d+)\.\s*/, '$1-$2 px, ')
    .replace(/Aspect ratio must be between ([\d.]+):1 and ([\d.]+):1\.\s*/, 'aspect $1-$2, ')
    .replace(/Aspect ratio must be between ([\d.:]+) and ([\d.:]+)\.\s*/, 'aspect $1-$2, ')
    .replace(/Frame rate must be between (\d+) and (\d+) FPS\.\s*/, '$1-$2 fps, ')
    .replace(/Duration must be between (\d+) and (\d+) seconds\.\s*/, '$1-$2 s, ')
    .replace(/,? located in the URL path parameter/, '')
    .trim()
    .replace(/,$/, '');
  return s.replace(/^(\w)/, (c) => c.toUpperCase());
}

/** "PNG, JPEG, JPG, and WEBP" -> "PNG/JPEG/WEBP" (JPG is JPEG). */
function formats(list: string): string {
  const names = list
    .split(/,\s*(?:and\s+)?|\s+and\s+/)
    .map((x) => x.trim())
    .filter(Boolean);
  return [...new Set(names.map((n) => (n === 'JPG' ? 'JPEG' : n)))].join('/');
}

/** "Options: 768P, 1080P (when duration is 6s)." -> [{value: "1080P", when: "duration is 6s"}] */
function conditionsOf(describe: string): { value: string; when: string }[] {
  const options = /Options: ([^.]*)\./.exec(describe)?.[1] ?? '';
  return [...options.matchAll(/([^,\s]+) \(when ([^)]+)\)/g)].map((m) => ({ value: m[1], when: m[2] }));
}

/**
 * Cross-field rules the prose states as "Options: A, B (when <param> is <value>)", when <param> is another
 * parameter of the same entry and <value> one of its keywords. Conditions that cannot be read that way
 * stay in the parameter's description.
 */
export function deriveRules(list: readonly UpstreamParam[]): { rules: Rule[]; prose: Map<string, string[]> } {
  const rules: Rule[] = [];
  const prose = new Map<string, string[]>();
  for (const p of list) {
    for (const c of conditionsOf(p.describe ?? '')) {
      const m = /^(\w+) is (\S+)$/.exec(c.when);
      const other = m && list.find((q) => q.name === m[1] && q.name !== p.name);
      if (m && other?.keywords?.includes(m[2]) && p.keywords?.includes(c.value))
        rules.push({ if: { param: p.name, in: [c.value] }, then: { param: other.name, in: [m[2]] } });
      else prose.set(p.name, [...(prose.get(p.name) ?? []), `${c.value} only when ${c.when}.`]);
    }
  }
  return { rules, prose };
}

export function mapParam(p: UpstreamParam, inPath: boolean, conditions: readonly string[] = []): ParamInput {
  const text = p.describe ?? '';
  const out: ParamInput = { name: p.name, in: inPath ? 'path' : 'body', type: 'string', required: p.required === true };
  const dflt = /Default is ([^.\s]+(?:\.\d+)?)\./.exec(text)?.[1];
  const maxLen = /Maximum string length: (\d+)\./.exec(text)?.[1];
  const maxFiles = /Maximum (\d+) file\(s\)\./.exec(text)?.[1];
  const kw = p.keywords;
  if (p.type === 'array<string>') {
    out.type = 'array';
    out.items = /\bURLs?\b/.test(text) ? 'url' : 'string';
    out.minItems = p.required ? 1 : undefined;
    if (maxFiles) out.maxItems = Number(maxFiles);
  } else if (kw && kw.length === 2 && kw.includes('True') && kw.includes('False')) {
    out.type = 'boolean';
    out.wire = { true: 'True', false: 'False' };
    if (dflt === 'True' || dflt === 'False') out.default = dflt === 'True';
  } else if (kw && kw.length > 0) {
    out.enum = [...kw];
    if (dflt !== undefined && kw.includes(dflt)) out.default = dflt;
  } else if (/^The URL of/.test(text)) {
    out.format = 'url';
  }
  if (out.type === 'string' && !out.enum && out.default === undefined && dflt !== undefined) out.default = dflt;
  if (maxLen) out.maxLength = Number(maxLen);
  if (out.type === 'string' && out.required && !out.enum) out.minLength = 1;
  const desc = [condense(text), ...conditions].filter(Boolean).join(' ');
  if (desc) out.description = desc;
  return out;
}

function readOnlySummary(description: unknown, name: string): string {
  const text = typeof description === 'string' && description ? description : name;
  return `${text
    .replace(/^API to /, '')
    .replace(/\.$/, '')
    .replace(/^\w/, (c) => c.toUpperCase())} (Media.io).`;
}

function titleCase(category: string): string {
  return category.charAt(0).toUpperCase() + category.slice(1).toLowerCase();
}

/** Map Media.io's catalogue array to our format. `file` names the source in errors. */
export function importMediaio(doc: unknown[], file: string): CatalogueInput {
  let origin = '';
  let statusPath = '';
  const operations: OperationInput[] = [];
  const names = new Map<string, string>();
  doc.forEach((raw, i) => {
    const ptr = `/${i}`;
    const entry = raw as Record<string, unknown>;
    const name = str(entry, 'name', file, ptr);
    const code = str(entry, 'model_code', file, ptr);
    const method = str(entry, 'method', file, ptr).toUpperCase();
    if (method !== 'POST' && method !== 'GET') fail(file, `${ptr}/method`, `unsupported method ${method}`);
    let url: URL;
    try {
      url = new URL(str(entry, 'endpoint', file, ptr));
    } catch {
      return fail(file, `${ptr}/endpoint`, 'expected an absolute URL');
    }
    if (origin && url.origin !== origin) fail(file, `${ptr}/endpoint`, `host differs from ${origin}`);
    origin = url.origin;
    let path: string;
    try {
      path = decodeURI(url.pathname);
    } catch {
      return fail(file, `${ptr}/endpoint`, 'the path is not valid percent-encoding');
    }
    const { category, list } = upstreamParams(subDocument(entry, 'api_body', file, ptr), file, ptr);
    if (names.has(name)) fail(file, `${ptr}/name`, `duplicate name "${name}" (also at ${names.get(name)})`);
    names.set(name, ptr);
    if (category === RESULT_CATEGORY) {
      statusPath = path;
      return;
    }
    const { rules, prose } = deriveRules(list);
    const params = list.map((p) => mapParam(p, path.includes(`{${p.name}}`), prose.get(p.name)));
    const readOnly = params.length === 0 || category.startsWith('Query');
    const vendor = /^\/generation\/([a-z0-9]+)\//.exec(path)?.[1];
    const kind = category.toLowerCase().replace(/ /g, '-');
    const media = /video|motion/i.test(category) ? 'video' : /image/i.test(category) ? 'image' : undefined;
    const op: OperationInput = {
      id: code.replace(/-/g, '_'),
      title: name,
      summary: readOnly ? readOnlySummary(entry.description, name) : `${titleCase(category)} with ${name} (Media.io).`,
      tags: readOnly ? ['account'] : [media, kind, vendor].filter((t): t is string => Boolean(t)),
      method: method as 'POST' | 'GET',
      path,
      readOnly,
      params,
      ...(rules.length ? { rules } : {}),
      ...(readOnly ? {} : { price: { unknown: NO_PRICE } }),
    };
    if (entry.status !== 1)
      op.disabled = `Marked status ${String(entry.status)} in Media.io's catalogue (live entries are status 1; the meaning of other values is undocumented).`;
    operations.push(op);
  });
  if (!statusPath) fail(file, '', `no entry with category "${RESULT_CATEGORY}" (the job status route)`);
  const statusId = /\{(\w+)\}/.exec(statusPath)?.[1];
  if (!statusId) fail(file, '', 'the Task Result endpoint has no {task_id} path parameter');
  for (const op of operations) {
    if (op.readOnly) continue;
    op.job = {
      idField: 'task_id',
      status: { method: 'POST', path: statusPath, field: 'status' },
      words: {
        pending: ['waiting', 'pending'],
        running: ['processing'],
        succeeded: ['completed', 'succeeded'],
        failed: ['failed', 'timeout'],
        cancelled: [],
      },
      results: op.tags?.includes('image')
        ? [{ field: 'result[].preview', kind: 'image' }]
        : [
            { field: 'result[].preview', kind: 'video' },
            { field: 'result[].cover', kind: 'cover' },
          ],
      errorField: 'reason',
      pollSeconds: 5,
      timeoutMinutes: 30,
    };
  }
  const ruled = operations.flatMap((o) => (o.rules ?? []).map((r) => `${MEDIAIO_PROVIDER}_${o.id}: ${ruleText(r)}`));
  return {
    provider: MEDIAIO_PROVIDER,
    title: 'Media.io OpenAPI',
    notes: [
      `Cross-field rules read from the prose ("Options: A, B (when P is V)"), checked before any request: ${ruled.join('; ') || 'none'}.`,
      "Task results: the file declares result an object; outputs are read from result[].preview (other public Media.io skills), and when that yields nothing every http(s) URL in the result is returned with an excerpt of it. Video results: result[].cover, a cover image, is read as the video's thumbnail (the field is not in the file; named in reports of the API's answers).",
    ],
    baseUrl: { env: 'MEDIAIO_BASE_URL', default: origin },
    auth: { type: 'header', name: 'X-API-KEY', env: MEDIAIO_KEY_ENV },
    currency: 'credits',
    consent: { confirmAbove: 5, alwaysConfirm: ['veo', 'sora'] },
    ...(operations.some((o) => o.id === 'user_credits')
      ? { balance: { operation: 'user_credits', field: 'credits' } }
      : {}),
    request: { wrap: 'data' },
    response: {
      envelope: {
        code: 'code',
        ok: [0],
        message: 'msg',
        data: 'data',
        trace: 'trace_id',
        errors: {
          '374004': 'PROVIDER_AUTH',
          '40001': 'PROVIDER_AUTH',
          '40002': 'PROVIDER_AUTH',
          '40003': 'NOT_FOUND',
          '490505': 'INSUFFICIENT_CREDITS',
          '490000': 'PROVIDER_REJECTED',
        },
      },
      errorMessage: 'msg',
    },
    operations,
  };
}
