/**
 * Golden fixtures: request/response examples copied from the provider documents
 * (test/fixtures/golden/*.json). Each fixture's request is sent to the sandbox, and its answer must
 * match the document's in shape: same HTTP status, same keys at every level, same JSON type per key,
 * and equal values except where the fixture says a value is elided/volatile/unspecified (type only).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

interface Fixture {
  source: string;
  provider: 'phaya' | 'ph0ny';
  method: 'GET' | 'POST';
  /** The provider's own path from the host root; `{job_id}` / `{jobId}` filled from `setup`. */
  path: string;
  request: unknown;
  /** Headers beyond Authorization (ph0ny's BYOK engines need the caller's own key). */
  headers?: Record<string, string>;
  response: { status: number; body: unknown };
  /** Another fixture that creates the job this one reads. */
  setup?: string;
  /** A sandbox fault marker appended to the setup request's prompt. */
  setupFault?: string;
  /** Poll until these top-level fields have these values. */
  pollUntil?: Record<string, unknown>;
  /** The document elides the value (`…`, `...`): compared by type only. */
  elided?: string[];
  /** Ids, timestamps, per-call numbers: compared by type only. */
  volatile?: string[];
  /** The document names the field without a value (fixture holds a typed placeholder): type only. */
  unspecified?: string[];
  /** Fields that may be null in the sandbox's answer (the document shows a union of states). */
  nullable?: string[];
  /** The document lists a union of values for these fields: the answer must be one of them. */
  alternatives?: Record<string, unknown[]>;
  /** Regular expressions the answer's (string) value must match. */
  patterns?: Record<string, string>;
}

interface Rules {
  loose: Set<string>;
  nullable: Set<string>;
  alternatives: Record<string, unknown[]>;
  patterns: Record<string, string>;
}

const DIR = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

function load(file: string): Fixture {
  return JSON.parse(readFileSync(DIR + file, 'utf8')) as Fixture;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The first difference between a documented body and the sandbox's, as `path: reason`; undefined if none. */
export function sameShape(expected: unknown, actual: unknown, path: string, rules: Rules): string | undefined {
  const at = path === '' ? '(root)' : path;
  if (actual === null && rules.nullable.has(path)) return undefined;
  if (jsonType(expected) !== jsonType(actual)) {
    return `${at}: expected ${jsonType(expected)}, got ${jsonType(actual)} (${JSON.stringify(actual)})`;
  }
  const pattern = rules.patterns[path];
  if (pattern !== undefined && !new RegExp(pattern).test(String(actual))) {
    return `${at}: ${JSON.stringify(actual)} does not match /${pattern}/`;
  }
  const alts = rules.alternatives[path];
  if (alts !== undefined) {
    return alts.includes(actual) ? undefined : `${at}: ${JSON.stringify(actual)} is none of ${JSON.stringify(alts)}`;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `${at}: expected ${expected.length} items, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = sameShape(expected[i], actual[i], join(path, i), rules);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof expected === 'object' && expected !== null) {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const missing = Object.keys(e).filter((k) => !(k in a));
    if (missing.length > 0) return `${join(path, missing[0])}: missing`;
    const extra = Object.keys(a).filter((k) => !(k in e));
    if (extra.length > 0) return `${join(path, extra[0])}: not in the document`;
    for (const k of Object.keys(e)) {
      const d = sameShape(e[k], a[k], join(path, k), rules);
      if (d) return d;
    }
    return undefined;
  }
  if (rules.loose.has(path) || Object.is(expected, actual)) return undefined;
  return `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

function rulesOf(f: Fixture): Rules {
  return {
    loose: new Set([...(f.elided ?? []), ...(f.volatile ?? []), ...(f.unspecified ?? [])]),
    nullable: new Set(f.nullable ?? []),
    alternatives: f.alternatives ?? {},
    patterns: f.patterns ?? {},
  };
}

async function send(
  sb: Sandbox,
  f: Fixture,
  path: string,
  request: unknown,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { ...f.headers, Authorization: `Bearer ${sb.key}` };
  if (request !== null) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${sb.url}/${f.provider}${path}`, {
    method: f.method,
    headers,
    body: request === null ? undefined : JSON.stringify(request),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown };
}

/** The fixture's answer from the sandbox: runs its setup and polls until `pollUntil` holds. */
async function answer(sb: Sandbox, f: Fixture): Promise<{ status: number; body: unknown }> {
  let path = f.path;
  if (f.setup) {
    const setup = load(f.setup);
    let request = setup.request as Record<string, unknown>;
    if (f.setupFault) request = { ...request, prompt: `${String(request.prompt)} ${f.setupFault}` };
    const created = await send(sb, setup, setup.path, request);
    expect(created.status).toBe(setup.response.status);
    const body = created.body as Record<string, unknown>;
    const id = String(body.job_id ?? body.id);
    path = path.replace(/\{job_id\}|\{jobId\}/, encodeURIComponent(id));
  }
  for (let i = 0; i < 20; i++) {
    const got = await send(sb, f, path, f.request);
    const body = got.body as Record<string, unknown>;
    const until = f.pollUntil ?? {};
    if (Object.entries(until).every(([k, v]) => body[k] === v)) return got;
  }
  throw new Error(`${f.path}: never reached ${JSON.stringify(f.pollUntil)}`);
}

describe('sandbox golden fixtures (documents vs sandbox)', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({});
  });
  afterAll(async () => {
    await sb.close();
  });

  it('has fixtures for both providers, each naming its source document', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(12);
    const fixtures = FILES.map(load);
    expect(new Set(fixtures.map((f) => f.provider))).toEqual(new Set(['phaya', 'ph0ny']));
    for (const f of fixtures) {
      expect(f.source).toMatch(/^seeds\/00[013]_[0-9a-f]+\.txt \(/);
      if (f.setup) expect(FILES).toContain(f.setup);
    }
  });

  it.each(FILES)('%s: same status, keys, types and values', async (file) => {
    const f = load(file);
    const got = await answer(sb, f);
    expect(got.status).toBe(f.response.status);
    expect(sameShape(f.response.body, got.body, '', rulesOf(f))).toBeUndefined();
  });
});

describe('sameShape', () => {
  const rules: Rules = { loose: new Set(['id']), nullable: new Set(['r']), alternatives: {}, patterns: {} };

  it('reports the first differing path: missing and extra keys, types, values', () => {
    const doc = { id: 'x', a: { b: [1, { c: 'd' }] }, r: { v: 1 } };
    expect(sameShape(doc, { id: 'y', a: { b: [1, { c: 'd' }] }, r: null }, '', rules)).toBeUndefined();
    expect(sameShape(doc, { id: 'y', a: { b: [1, { c: 'e' }] }, r: null }, '', rules)).toBe(
      'a.b[1].c: expected "d", got "e"',
    );
    expect(sameShape(doc, { id: 'y', a: { b: [1, {}] }, r: null }, '', rules)).toBe('a.b[1].c: missing');
    expect(sameShape(doc, { id: 'y', a: { b: [1, { c: 'd', z: 0 }] }, r: null }, '', rules)).toBe(
      'a.b[1].z: not in the document',
    );
    expect(sameShape(doc, { id: 1, a: { b: [1, { c: 'd' }] }, r: null }, '', rules)).toMatch(
      /^id: expected string, got number/,
    );
    expect(sameShape({ n: '10' }, { n: 10 }, '', rules)).toMatch(/^n: expected string, got number/);
    expect(sameShape([1], [1, 2], '', rules)).toBe('(root): expected 1 items, got 2');
  });
});
