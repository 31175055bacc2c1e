/**
 * Seeded hostile catalogues and OpenAPI specs for the fuzz test: prototype and reserved names, deep
 * nesting, huge enums, odd unicode, `$ref` cycles, deep defaults and weird servers. Each generator takes a
 * seeded PRNG, so a failure replays from its seed and index.
 */

export type Random = () => number;
type Json = Record<string, unknown>;

/** mulberry32: a small seeded PRNG. */
export function rng(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** An own property, even for "__proto__" (an assignment would set the prototype instead). */
function put(o: Json, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A JSON value nested `depth` levels deep, as a marker that `render` expands in the text (JSON.stringify
 * itself overflows the stack on such a value).
 */
export function nestedJson(depth: number): string {
  return `@@deep:${depth}@@`;
}

/** JSON text of a generated document, with its deep markers expanded to `{"a":[{"a":...}]}`. */
export function render(doc: unknown): string {
  return JSON.stringify(doc).replace(/"@@deep:(\d+)@@"/g, (_m, n: string) => {
    const depth = Number(n);
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
      open += i % 2 ? '[' : '{"a":';
      close = (i % 2 ? ']' : '}') + close;
    }
    return `${open}1${close}`;
  });
}

export const HOSTILE_NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'filter[id]',
  'two words',
  'café',
  '日本',
  '\u202eevil',
  '',
  'x'.repeat(65),
  'confirm_token',
  'idempotency_key',
  'a.b',
  'x-y',
  '_ok',
  '9lives',
];

export const ODD_TEXT = [
  'RTL \u202e override',
  'NUL \u0000 byte',
  'lone \ud800 surrogate',
  'emoji 🎬🧨 and ZWJ 👩‍💻',
  'zero\u200bwidth',
  'combining e\u0301\u0301\u0301',
  '\ufeffBOM',
  '<script>alert(1)</script>',
  '"}]} injected',
  'FILL-IN without the colon',
];

const RESERVED_PROVIDERS = ['jobs', 'spend', 'quote', 'models', 'jobs_x', 'spend_report', 'quote_x', 'models_y'];
const ODD_PROVIDERS = ['_', '__proto__', 'constructor', 'Jobs', 'a-b', ''];

const enumOf = (n: number, prefix = 'v'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A valid catalogue for provider `provider` (key variable `${PROVIDER}_KEY`), before any mutation. */
function baseCatalogue(provider: string): Json {
  return {
    provider,
    title: `Fuzz ${provider}`,
    baseUrl: { env: `${provider.toUpperCase()}_BASE`, default: 'http://127.0.0.1:9/api' },
    auth: { type: 'bearer', env: `${provider.toUpperCase()}_KEY` },
    operations: [
      { id: 'balance', title: 'Balance', summary: 'Balance.', method: 'GET', path: '/balance', readOnly: true },
      {
        id: 'make',
        title: 'Make',
        summary: 'Make a thing.',
        method: 'POST',
        path: '/make/{model}',
        params: [
          { name: 'model', in: 'path', type: 'string', enum: ['a', 'b'], default: 'a' },
          { name: 'prompt', type: 'string', required: true, maxLength: 500 },
          { name: 'size', type: 'string', enum: ['small', 'big'], default: 'small' },
          { name: 'opts', type: 'object', properties: [{ name: 'seed', type: 'integer' }] },
        ],
        price: { table: { by: ['size'], rows: { small: 1, big: 2 } } },
        job: {
          idField: 'job_id',
          status: { method: 'GET', path: '/status/{job_id}', field: 'status' },
          words: { running: ['running'], succeeded: ['done'], failed: ['failed'] },
          results: [{ field: 'url', kind: 'image' }],
        },
      },
    ],
  };
}

type Mutation = (c: Json, r: Random) => void;
const ops = (c: Json) => c.operations as Json[];
const params = (c: Json) => ops(c)[1].params as Json[];

const CATALOGUE_MUTATIONS: Mutation[] = [
  (c, r) => (params(c)[1].name = pick(r, HOSTILE_NAMES)),
  (c, r) => ((params(c)[3].properties as Json[])[0].name = pick(r, HOSTILE_NAMES)),
  (c, r) => (c.provider = pick(r, [...RESERVED_PROVIDERS, ...ODD_PROVIDERS])),
  (c, r) => (ops(c)[0].id = pick(r, ['wait', 'get', 'list', 'proto__', '__proto__', 'constructor', 'x'.repeat(70)])),
  (c, r) => (params(c)[3].default = nestedJson(pick(r, [3, 10, 63, 64, 65, 1_000, 20_000]))),
  (c, r) => {
    const values = enumOf(pick(r, [1_000, 20_000, 200_000]));
    params(c)[2].enum = values;
    params(c)[2].default = values[values.length - 1];
  },
  (c, r) => {
    ops(c)[1].title = pick(r, ODD_TEXT);
    ops(c)[1].summary = pick(r, ODD_TEXT);
    params(c)[1].description = pick(r, ODD_TEXT);
  },
  (c, r) => (params(c)[2].enum = ['small', 'big', pick(r, ODD_TEXT), pick(r, ['constructor', 'toString'])]),
  (c, r) => ((ops(c)[1].job as Json).idField = pick(r, ['data.constructor', '__proto__', 'a[].toString', 'id'])),
  (c, r) => {
    const rows = (ops(c)[1].price as { table: { rows: Json } }).table.rows;
    put(rows, pick(r, ['__proto__', 'constructor']), 5);
  },
  (c, r) => {
    const errors: Json = {};
    put(errors, pick(r, ['__proto__', 'constructor', '42']), 'PROVIDER_AUTH');
    c.response = { envelope: { code: 'code', ok: [0], errors } };
  },
  (c, r) => (params(c)[1].default = pick(r, [{ a: 1 }, 7, true, null, 'fine', ['x']])),
  (c, r) => (params(c)[2].minLength = pick(r, [-1, 1e308, 0.5, 'x'])),
  (c) => ops(c).push({ ...ops(c)[0] }),
];

/** Hostile catalogue number `i`: provider `fz<i>` unless a mutation renamed it; one to three mutations. */
export function hostileCatalogue(r: Random, i: number): { text: string; provider: string } {
  const c = baseCatalogue(`fz${i}`);
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) pick(r, CATALOGUE_MUTATIONS)(c, r);
  return { text: render(c), provider: String(c.provider) };
}

/** A small valid spec: one POST with a JSON body, one GET with a path parameter. */
function baseSpec(): Json {
  return {
    openapi: '3.0.3',
    info: { title: 'Fuzz API', version: '1' },
    servers: [{ url: 'https://api.fuzz.example/v1' }],
    paths: {
      '/things': {
        post: {
          operationId: 'createThing',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
        },
      },
      '/things/{id}': {
        get: {
          operationId: 'getThing',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        },
      },
    },
    components: {
      schemas: {
        Thing: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', maxLength: 100 }, size: { type: 'integer', default: 1 } },
        },
      },
    },
  };
}

const schemas = (s: Json) => (s.components as { schemas: Json }).schemas;
const thing = (s: Json) => schemas(s).Thing as { properties: Json; required: unknown };
const getOp = (s: Json) => (s.paths as Json)['/things/{id}'] as { get: Json };

const SPEC_MUTATIONS: Mutation[] = [
  (s) => {
    thing(s).properties.children = { type: 'array', items: { $ref: '#/components/schemas/Thing' } };
    thing(s).properties.parent = { $ref: '#/components/schemas/Thing' };
  },
  (s) => {
    schemas(s).Loop = { $ref: '#/components/schemas/Loop' };
    thing(s).properties.loop = { $ref: '#/components/schemas/Loop' };
  },
  (s) => {
    schemas(s).A = { $ref: '#/components/schemas/B' };
    schemas(s).B = { $ref: '#/components/schemas/A' };
    (s.paths as Json)['/things'] = { $ref: '#/components/schemas/A' };
  },
  (s, r) => (thing(s).properties.size = { type: 'object', default: nestedJson(pick(r, [5, 9, 1_000, 20_000])) }),
  (s, r) =>
    (s.servers = pick(r, [
      [{ url: 'http://169.254.169.254/latest' }],
      [{ url: 'file:///etc/passwd' }, { url: 'javascript:alert(1)' }],
      [{ url: { nested: true } }, 'not-an-object', null],
      [{ url: 'https://' + 'x'.repeat(100_000) + '.example' }],
      Array.from({ length: 10_000 }, (_, k) => ({ url: `https://s${k}.example` })),
      'not-a-list',
      [{ url: 'https://{region}.example.com', variables: { region: { default: 'eu' } } }],
    ])),
  (s, r) => {
    const props: Json = { ...thing(s).properties };
    put(props, pick(r, HOSTILE_NAMES), { type: 'string' });
    thing(s).properties = props;
    if (r() < 0.5) thing(s).required = Object.keys(props);
  },
  (s, r) => {
    const get = getOp(s).get;
    const p = Array.isArray(get.parameters) ? (get.parameters as Json[]) : [];
    get.parameters = p;
    p.push({ name: pick(r, HOSTILE_NAMES), in: pick(r, ['query', 'path', 'header', 'cookie']), schema: {} });
  },
  (s, r) =>
    (getOp(s).get.operationId = pick(r, [
      '_'.repeat(50_000) + 'x',
      '',
      'Ünïcödé 🎬',
      '__proto__',
      'constructor',
      'a'.repeat(300),
      'createThing',
    ])),
  (s, r) => {
    const paths = s.paths as Json;
    put(paths, pick(r, ['__proto__', 'no-slash', '/a/{missing}', '/' + 'p'.repeat(5_000)]), { get: {} });
  },
  (s, r) => (thing(s).properties.name = { type: 'string', enum: enumOf(pick(r, [1_000, 200_000]), 'e') }),
  (s, r) => {
    thing(s).properties.name = { type: 'string', description: pick(r, ODD_TEXT), enum: [pick(r, ODD_TEXT)] };
    (s.info as Json).title = pick(r, ODD_TEXT);
  },
  (s, r) =>
    (thing(s).properties.size = pick(r, [
      { type: ['null'] },
      { type: 123 },
      { type: 'array', items: { $ref: '#/components/schemas/Thing' } },
      { properties: ['not', 'an', 'object'] },
      { type: 'object', required: 'name', properties: { name: {} } },
      { enum: 'nope' },
    ])),
  (s) => (getOp(s).get.parameters = { not: 'a list' }),
  (s) => {
    (s.components as Json).securitySchemes = { $ref: '#/components/securitySchemes' };
    s.security = [{ constructor: [] }];
  },
  (s, r) => (s.openapi = pick(r, ['3.1.0', '3.0.0', '2.0', 3])),
];

/** A hostile spec as JSON text: one to three mutations of a small valid spec. */
export function hostileSpec(r: Random): string {
  const s = baseSpec();
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) pick(r, SPEC_MUTATIONS)(s, r);
  return render(s);
}

type Entry = Record<string, unknown>;
const body = (e: Entry) => JSON.parse(String(e.api_body)) as { category: { list: Entry[] }[] };
const withBody = (e: Entry, f: (list: Entry[]) => void) => {
  const b = body(e);
  f(b.category[0].list);
  e.api_body = JSON.stringify(b);
};

const MEDIAIO_MUTATIONS: ((e: Entry, r: Random) => void)[] = [
  (e, r) => withBody(e, (list) => list.length && (list[0].name = pick(r, HOSTILE_NAMES))),
  (e, r) => withBody(e, (list) => list.length && (list[0].describe = pick(r, [{ a: 1 }, 7, ['x'], null]))),
  (e, r) => withBody(e, (list) => list.length && (list[0].keywords = pick(r, [[{ a: 1 }], 'True', [1, 2]]))),
  (e, r) =>
    (e.endpoint = pick(r, [
      'https://openapi.media.io/%E0%A4%A',
      'not a url',
      'https://elsewhere.example/v1/x',
      'https://openapi.media.io/' + 'p'.repeat(5_000),
    ])),
  (e, r) =>
    (e.api_body = pick(r, ['{"category":[null]}', '[]', '{"category":[{"list":[null]}]}', render(nestedJson(20_000))])),
  (e, r) => (e.model_code = pick(r, ['__proto__', 'constructor', 'x'.repeat(100), 'Ünï', ''])),
  (e, r) => (e.name = pick(r, ODD_TEXT)),
];

/** A mutated copy of Media.io's upstream array (one to two entries changed), as JSON text. */
export function hostileMediaio(r: Random, upstream: readonly Entry[]): string {
  const doc = upstream.map((e) => ({ ...e }));
  const n = 1 + Math.floor(r() * 2);
  for (let k = 0; k < n; k++) pick(r, MEDIAIO_MUTATIONS)(pick(r, doc), r);
  return JSON.stringify(doc);
}
