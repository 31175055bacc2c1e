/**
 * Names a catalogue gives, through the real server: a catalogue may not shadow the server's own tools
 * (jobs_wait listed twice, answered by the catalogue) nor take their prefixes; parameter names such as
 * `constructor` (which made SDK clients' listTools() throw, so no tool could be listed) and `__proto__`
 * (which vanished from the listing) are refused at start with the file and the JSON pointer; a price table
 * looked up with an argument value such as "constructor" finds no row on the prototype.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_TOOL_NAMES } from '../../src/app.js';
import { tempDir } from '../helpers/in-memory.js';
import { CLI, ROOT } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

type Json = Record<string, unknown>;
const dir = tempDir();

function catalogue(provider: string, operations: Json[], extra: Json = {}): Json {
  return {
    provider,
    title: `${provider} test catalogue`,
    baseUrl: { env: `${provider.toUpperCase()}_BASE`, default: 'http://127.0.0.1:9/api' },
    auth: { type: 'bearer', env: `${provider.toUpperCase()}_KEY` },
    operations,
    ...extra,
  };
}

const read = (id: string, params: Json[] = []): Json => ({
  id,
  title: id,
  summary: `${id}.`,
  method: 'GET',
  path: `/${id}`,
  readOnly: true,
  params,
});

function save(name: string, cat: Json): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(cat));
  return file;
}

/** Start the real server with this catalogue (its key set) and stdin closed: its exit code and stderr. */
function start(file: string, provider: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--catalogue', file], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      MEDIAGEN_STATE_DIR: tempDir(),
      [`${provider.toUpperCase()}_KEY`]: 'test-key-123456',
    },
    input: '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('a catalogue cannot shadow or reserve-squat the server tools', () => {
  it('a provider named "jobs" with wait/get/list is refused at start, naming /provider', () => {
    const file = save('jobs.json', catalogue('jobs', [read('wait'), read('get'), read('list')]));
    const r = start(file, 'jobs');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: /provider: provider "jobs" is reserved`);
  });

  it('providers under the reserved prefixes (spend_, quote, models, jobs_…) are refused too', () => {
    for (const provider of ['spend', 'quote', 'models', 'jobs_extra', 'spend_x']) {
      const file = save(`${provider}.json`, catalogue(provider, [read('report')]));
      const r = start(file, provider);
      expect(r.status, provider).toBe(2);
      expect(r.stderr, provider).toMatch(new RegExp(`/provider: provider "${provider}" is reserved`));
    }
  });
});

describe('provider and variable names that every object inherits', () => {
  it('a provider named "constructor" is refused (caps, thresholds and rate limits are looked up by provider)', () => {
    const file = save('ctor.json', catalogue('constructor', [read('list')]));
    const r = start(file, 'constructor');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: /provider: provider "constructor" is a name every JavaScript object inherits`);
  });

  it('a key variable named "constructor" is refused at start, not a crash', () => {
    const cat = catalogue('envy', [read('list')]);
    cat.auth = { type: 'bearer', env: 'constructor' };
    const file = save('envy.json', cat);
    const r = start(file, 'envy');
    expect(r.stderr).not.toMatch(/fatal/);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `${file}: /auth/env: variable name "constructor" is a name every JavaScript object inherits`,
    );
  });
});

describe('parameter names that are not safe property keys', () => {
  const cases: { name: string; params: Json[]; pointer: string }[] = [
    { name: 'constructor', params: [{ name: 'constructor', type: 'string', in: 'query' }], pointer: '/params/0/name' },
    { name: '__proto__', params: [{ name: '__proto__', type: 'string', in: 'query' }], pointer: '/params/0/name' },
    { name: 'prototype', params: [{ name: 'prototype', type: 'string', in: 'query' }], pointer: '/params/0/name' },
    { name: 'toString', params: [{ name: 'toString', type: 'string', in: 'query' }], pointer: '/params/0/name' },
    { name: 'filter[id]', params: [{ name: 'filter[id]', type: 'string', in: 'query' }], pointer: '/params/0/name' },
    {
      name: 'a field named __proto__',
      params: [
        { name: 'ok', type: 'string', in: 'query' },
        { name: 'opts', type: 'object', properties: [{ name: '__proto__', type: 'string' }] },
      ],
      pointer: '/params/1/properties/0/name',
    },
    {
      name: 'confirm_token',
      params: [{ name: 'confirm_token', type: 'string', in: 'query' }],
      pointer: '/params/0/name',
    },
  ];
  for (const c of cases)
    it(`refuses ${c.name} at start, naming /operations/0${c.pointer}`, () => {
      const file = save('names.json', catalogue('names', [read('lookup', c.params)]));
      const r = start(file, 'names');
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${file}: /operations/0${c.pointer}: `);
    });

  it('refuses a response path through "constructor" (job id field), naming its pointer', () => {
    const op = {
      ...read('make'),
      method: 'POST',
      readOnly: false,
      price: { credits: 1 },
      job: {
        idField: 'data.constructor',
        status: { method: 'GET', path: '/status/{id}', field: 'status' },
        words: { running: ['running'], succeeded: ['done'], failed: ['failed'] },
      },
    };
    const file = save('paths.json', catalogue('paths', [op]));
    const r = start(file, 'paths');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: /operations/0/job/idField: "constructor"`);
  });
});

describe('a catalogue with odd but safe names, listed by a real SDK client', () => {
  let server: StdioServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it('lists every server tool exactly once and the catalogue tools beside them', async () => {
    const priced = {
      id: 'make',
      title: 'Make ✨ ‮ (RTL)',
      summary: 'Make something: 日本語, emoji 🎬, zero-width\u200b.',
      method: 'POST',
      path: '/make/{model.v2}',
      params: [
        { name: 'model.v2', in: 'path', type: 'string', enum: ['a', 'b'], default: 'a' },
        { name: 'x-trace', type: 'string' },
        { name: '_private', type: 'integer', default: 3 },
        // Values that are names on every object: a price table looked up with them finds no row.
        { name: 'size', type: 'string', enum: ['constructor', 'toString', 'small'], default: 'small' },
      ],
      price: { table: { by: ['size'], rows: { small: 2 } } },
      job: {
        idField: 'job_id',
        status: { method: 'GET', path: '/status/{id}', field: 'status' },
        words: { running: ['running'], succeeded: ['done'], failed: ['failed'] },
        results: [{ field: 'url', kind: 'image' }],
      },
    };
    const file = save(
      'odd.json',
      catalogue('odd', [read('look_up', [{ name: 'q.r-s', type: 'string', in: 'query' }]), priced]),
    );
    server = await spawnStdio({ ODD_KEY: 'test-key-123456' }, ['--catalogue', file]);
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name);
    // media_upload exists only with an s3 output store (test/e2e/output-store-*.test.ts).
    for (const n of SERVER_TOOL_NAMES)
      expect(
        names.filter((x) => x === n),
        n,
        // media_upload needs a bucket; mediagen_approve is listed only to clients that render the views.
      ).toHaveLength(n === 'media_upload' || n === 'mediagen_approve' ? 0 : 1);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !SERVER_TOOL_NAMES.includes(n)).sort()).toEqual(['odd_look_up', 'odd_make']);
    const make = tools.find((t) => t.name === 'odd_make');
    expect(Object.keys(make?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['model.v2', 'x-trace', '_private', 'size']),
    );

    // The priced size finds its row; "constructor" finds none (unknown price), never Object's constructor.
    const small = await server.call('quote', { tool: 'odd_make', arguments: { size: 'small' } });
    expect(small.structuredContent).toMatchObject({ price: { kind: 'exact', credits: 2 } });
    for (const size of ['constructor', 'toString']) {
      const q = await server.call('quote', { tool: 'odd_make', arguments: { size } });
      expect(q.isError, text(q)).toBeFalsy();
      expect(q.structuredContent, size).toMatchObject({ price: { kind: 'unknown' }, consent: { needed: true } });
    }
  });
});
