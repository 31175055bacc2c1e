/**
 * import-openapi: a draft catalogue from an OpenAPI document, through the real CLI. Tested on the
 * benchmark's spec (bench/peer/gateway.openapi.json, OpenAPI 3.0) against the catalogue written by hand
 * for the same routes, and on a spec written from a public gateway's documentation (the ph0ny Video API
 * page, OpenAPI 3.1: type arrays with "null", $ref parameters and schemas). The loader refuses the draft
 * until every placeholder is filled.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogueFile } from '../../src/catalogue/load.js';
import { PLACEHOLDER } from '../../src/catalogue/openapi.js';
import { buildTools } from '../../src/tools/build.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio } from '../helpers/stdio.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const ROOT = join(import.meta.dirname, '../..');
type Json = Record<string, unknown>;
type Op = Json & { id: string; params: Json[]; price?: Json; job?: Json; readOnly?: boolean };
type Cat = Json & { operations: Op[] };

function draft(spec: string, provider: string): Cat {
  const out = execFileSync(process.execPath, [CLI, 'import-openapi', spec, '--provider', provider], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out) as Cat;
}

function save(cat: unknown): string {
  const file = join(tempDir(), 'draft.json');
  writeFileSync(file, JSON.stringify(cat));
  return file;
}

const pick = (p: Json) =>
  Object.fromEntries(
    [
      'name',
      'type',
      'enum',
      'default',
      'maxLength',
      'minLength',
      'minimum',
      'maximum',
      'maxItems',
      'items',
      'format',
    ].flatMap((k) => (p[k] === undefined ? [] : [[k, p[k]]])),
  );

describe('import-openapi on the benchmark spec (OpenAPI 3.0)', () => {
  const cat = draft('bench/peer/gateway.openapi.json', 'gw');
  const hand = JSON.parse(
    execFileSync('cat', ['bench/peer/gateway.catalogue.json'], { cwd: ROOT, encoding: 'utf8' }),
  ) as Cat;

  it('maps every operation with the hand-written catalogue params (types, enums, defaults, limits, formats)', () => {
    expect(cat.operations.map((o) => o.id)).toEqual(hand.operations.map((o) => o.id));
    for (const op of cat.operations) {
      const h = hand.operations.find((o) => o.id === op.id) as Op;
      expect(op.params.map(pick), op.id).toEqual((h.params ?? []).map(pick));
      // Nothing in a spec says a call is free: GET or not, the price is the operator's to type.
      expect(op.readOnly, op.id).toBeUndefined();
      expect(JSON.stringify(op.price), op.id).toContain(PLACEHOLDER);
    }
    expect(cat.auth).toEqual({ type: 'bearer', env: 'GW_API_KEY' });
    // The spec's server is a hint in the notes, never the default the key is sent to.
    expect((cat.baseUrl as Json).env).toBe('GW_BASE_URL');
    expect(String((cat.baseUrl as Json).default)).toContain(PLACEHOLDER);
    expect((cat.notes as string[]).join('\n')).toContain('"http://127.0.0.1:9/phaya/api/v1"');
  });

  it('the loader refuses the draft until its placeholders are filled, naming the JSON pointer', () => {
    expect(() => loadCatalogueFile(save(cat))).toThrow(
      new RegExp(`draft\\.json: /baseUrl/default: placeholder left by import-openapi, fill it in: .*${PLACEHOLDER}`),
    );
    (cat.baseUrl as Json).default = 'http://127.0.0.1:9/phaya/api/v1';
    expect(() => loadCatalogueFile(save(cat))).toThrow(
      new RegExp(
        `draft\\.json: /operations/0/price/unknown: placeholder left by import-openapi, fill it in: ${PLACEHOLDER}`,
      ),
    );
    // Filled from what the hand-written catalogue knows (prices or read-only, job blocks; none for answers at once).
    for (const op of cat.operations) {
      const h = hand.operations.find((o) => o.id === op.id) as Op;
      if (h.readOnly) {
        delete op.price;
        op.readOnly = true;
      } else op.price = h.price;
      if (h.job) op.job = h.job;
      else delete op.job;
    }
    const loaded = loadCatalogueFile(save(cat));
    const tools = buildTools([loaded]);
    expect(tools.map((t) => t.name)).toContain('gw_nano_banana');
    expect(tools.find((t) => t.name === 'gw_user_credits')?.annotations).toEqual({ readOnlyHint: true });
  });

  it('a bad spec or missing flag is one line and exit code 2; nothing on stdout', () => {
    const r = spawnSync(process.execPath, [CLI, 'import-openapi', 'package.json', '--provider', 'x'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/expected an OpenAPI 3\.0 or 3\.1 document/);
    const u = spawnSync(process.execPath, [CLI, 'import-openapi', 'bench/peer/gateway.openapi.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/usage: mediagen-mcp import-openapi spec\.json --provider NAME/);
  });
});

describe('import-openapi on a spec written from the ph0ny Video API documentation (OpenAPI 3.1)', () => {
  const cat = draft('test/fixtures/openapi/ph0ny-video.openapi.json', 'pv');
  const op = (id: string) => cat.operations.find((o) => o.id === id) as Op;
  const param = (id: string, name: string) => op(id).params.find((p) => p.name === name) as Json;

  it('reads limits, defaults, formats, $ref enums, 3.1 nullable types and path parameters', () => {
    expect(cat.operations.map((o) => o.id)).toEqual([
      'video_generate',
      'video_avatar',
      'video_lipsync',
      'video_dub',
      'video_analyze',
      'video_job',
      'usage',
    ]);
    expect(param('video_generate', 'prompt')).toMatchObject({ required: true, minLength: 1, maxLength: 2000 });
    expect(param('video_generate', 'duration_seconds')).toMatchObject({
      type: 'number',
      minimum: 1,
      maximum: 30,
      default: 5,
    });
    expect(param('video_generate', 'webhook_url')).toMatchObject({ format: 'url' });
    expect(param('video_avatar', 'provider').enum).toContain('heygen');
    expect(param('video_avatar', 'target_language')).toMatchObject({ type: 'string', nullable: true });
    expect(param('video_analyze', 'tasks')).toMatchObject({ type: 'array', items: 'string' });
    expect(op('video_job')).toMatchObject({ method: 'GET', path: '/video/{jobId}' });
    expect(param('video_job', 'jobId')).toMatchObject({ in: 'path', required: true });
    expect(op('video_generate').job).toBeDefined();
    expect(op('usage').job).toBeUndefined();
    for (const o of cat.operations) expect(JSON.stringify(o.price), o.id).toContain(PLACEHOLDER);
  });

  it('loads once the placeholders are filled, with a job block taken from the documented lifecycle', () => {
    (cat.baseUrl as Json).default = 'https://persona-labsvoice-api-production.up.railway.app/v1';
    for (const o of cat.operations) {
      if (o.method === 'GET') {
        delete o.price;
        o.readOnly = true;
        continue;
      }
      o.price = { unknown: 'no video prices are published' };
      o.job = {
        idField: 'id',
        status: { method: 'GET', path: '/video/{jobId}', field: 'status' },
        words: { pending: ['pending'], running: ['processing'], succeeded: ['completed'], failed: ['failed'] },
        results: [{ field: 'result.video_url', kind: 'video' }],
      };
    }
    const tools = buildTools([loadCatalogueFile(save(cat))]);
    expect(tools.map((t) => t.name)).toContain('pv_video_generate');
  });
});

/** Run the real CLI on a spec given as JSON text: exit code, stdout (the draft when 0) and stderr. */
function importText(json: string, provider = 'hx'): { status: number | null; stdout: string; stderr: string } {
  const file = join(tempDir(), 'spec.json');
  writeFileSync(file, json);
  const r = spawnSync(process.execPath, [CLI, 'import-openapi', file, '--provider', provider], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start the real server on a catalogue file (its key set, stdin closed): exit code and stderr. */
function serve(file: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--catalogue', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir(), ...env },
    input: '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('import-openapi on recursive and deeply nested specs', () => {
  it('a recursive schema, a self-$ref and an a→b→a $ref loop give a draft; the loops are FILL IN with their pointer', () => {
    const spec = {
      openapi: '3.0.3',
      info: { title: 'Trees', version: '1' },
      paths: {
        '/tree': {
          post: {
            operationId: 'plantTree',
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Tree' } } } },
          },
        },
      },
      components: {
        schemas: {
          Tree: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string' },
              children: { type: 'array', items: { $ref: '#/components/schemas/Tree' } },
              parent: { $ref: '#/components/schemas/Tree' },
              loop: { $ref: '#/components/schemas/Self' },
              ab: { $ref: '#/components/schemas/A' },
            },
          },
          Self: { $ref: '#/components/schemas/Self' },
          A: { $ref: '#/components/schemas/B' },
          B: { $ref: '#/components/schemas/A' },
        },
      },
    };
    const r = importText(JSON.stringify(spec));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cat = JSON.parse(r.stdout) as Cat;
    const params = cat.operations[0].params;
    expect(params.map((p) => p.name)).toEqual(['name', 'children', 'parent', 'loop', 'ab']);
    // A tree's children are trees: one level of fields, then free-form objects.
    const children = params.find((p) => p.name === 'children') as Json;
    expect(children).toMatchObject({ type: 'array', items: 'object' });
    expect((children.properties as Json[]).find((f) => f.name === 'children')).toEqual({
      name: 'children',
      type: 'array',
      items: 'object',
    });
    const at = '#/paths/~1tree/post/requestBody/content/application~1json/schema/properties';
    expect(params.find((p) => p.name === 'loop')?.description).toBe(
      `${PLACEHOLDER} the schema at ${at}/loop is a $ref loop (#/components/schemas/Self) with no type; give this parameter its type and a description`,
    );
    expect(String(params.find((p) => p.name === 'ab')?.description)).toContain(`${PLACEHOLDER} the schema at ${at}/ab`);
  });

  it('a default nested 20,000 deep becomes a FILL IN naming its pointer', () => {
    const json = `{"openapi":"3.1.0","info":{"title":"Deep"},"paths":{"/x":{"get":{"operationId":"deep","parameters":[{"name":"q","in":"query","schema":{"type":"object","default":${nested(20_000)}}}]}}}}`;
    const r = importText(json);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cat = JSON.parse(r.stdout) as Cat;
    expect(cat.operations[0].params[0].default).toMatch(
      new RegExp(
        `^${PLACEHOLDER} the spec's default at #/paths/~1x/get/parameters/0/schema/default nests deeper than 8`,
      ),
    );
  });

  it('the server refuses a catalogue nested 20,000 deep at start, naming where (no stack overflow)', () => {
    const file = join(tempDir(), 'deep.json');
    writeFileSync(
      file,
      `{"provider":"deep","title":"Deep","baseUrl":{"env":"DEEP_BASE","default":"http://127.0.0.1:9"},"auth":{"type":"bearer","env":"DEEP_KEY"},"operations":[{"id":"get","title":"g","summary":"g.","method":"GET","path":"/g","readOnly":true,"params":[{"name":"q","type":"object","in":"query","default":${nested(20_000)}}]}]}`,
    );
    const r = serve(file, { DEEP_KEY: 'test-key-123456' });
    expect(r.stderr).not.toMatch(/call stack|fatal/);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: /operations/0/params/0/default/a/a/a/`);
    expect(r.stderr).toMatch(/nested deeper than 64 levels/);
  });
});

describe('import-openapi never decides a price or a host', () => {
  const spec = {
    openapi: '3.1.0',
    info: { title: 'Metadata', version: '1' },
    servers: [{ url: 'http://169.254.169.254/latest' }],
    paths: {
      '/meta-data': { get: { operationId: 'metaData', summary: 'Read metadata.' } },
      '/user-data': { get: { operationId: 'userData' } },
    },
  };

  it('a GET-only spec: every operation gets a price FILL IN, none is read-only; servers[0] is only a hint', () => {
    const r = importText(JSON.stringify(spec), 'meta');
    expect(r.status).toBe(0);
    const cat = JSON.parse(r.stdout) as Cat;
    for (const op of cat.operations) {
      expect(op.readOnly, op.id).toBeUndefined();
      expect(String(op.price?.unknown), op.id).toMatch(new RegExp(`^${PLACEHOLDER}`));
      expect(op.job, op.id).toBeUndefined();
    }
    const base = cat.baseUrl as Json;
    expect(base.env).toBe('META_BASE_URL');
    expect(String(base.default)).toContain(PLACEHOLDER);
    expect(String(base.default)).not.toContain('169.254');
    expect((cat.notes as string[]).some((n) => n.includes('"http://169.254.169.254/latest"') && /hint/i.test(n))).toBe(
      true,
    );
  });

  it('the server will not serve the draft until the base URL and every price are typed; {"credits": 0} is a paid tool', async () => {
    const cat = JSON.parse(importText(JSON.stringify(spec), 'meta').stdout) as Cat;
    const file = save(cat);
    const env = { META_API_KEY: 'test-key-123456' };
    let r = serve(file, env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: /baseUrl/default: placeholder left by import-openapi`);
    (cat.baseUrl as Json).default = 'http://127.0.0.1:9/latest';
    writeFileSync(file, JSON.stringify(cat));
    r = serve(file, env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: /operations/0/price/unknown: placeholder left by import-openapi`);
    for (const op of cat.operations) op.price = { credits: 0 };
    writeFileSync(file, JSON.stringify(cat));
    const server = await spawnStdio(env, ['--catalogue', file]);
    try {
      const { tools } = await server.client.listTools();
      const meta = tools.find((t) => t.name === 'meta_meta_data');
      expect(meta?.description).toContain('Price: 0 credits');
      expect(meta?.annotations?.readOnlyHint).not.toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('import-openapi on names the server cannot list', () => {
  it('leaves constructor, __proto__, prototype and filter[id] out with notes; a required one blocks its operation', () => {
    const json = `{"openapi":"3.0.0","info":{"title":"Names"},"paths":{"/find":{"post":{"operationId":"find",
      "parameters":[{"name":"constructor","in":"query","schema":{"type":"string"}},{"name":"__proto__","in":"query","schema":{"type":"string"}},{"name":"q","in":"query","schema":{"type":"string"}}],
      "requestBody":{"content":{"application/json":{"schema":{"type":"object","required":["filter[id]"],"properties":{"prototype":{"type":"string"},"filter[id]":{"type":"string"},"__proto__":{"type":"object","properties":{"constructor":{"type":"string"}}},"ok":{"type":"object","properties":{"__proto__":{"type":"string"},"fine":{"type":"string"}}}}}}}}}}}}`;
    const r = importText(json);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cat = JSON.parse(r.stdout) as Cat;
    const op = cat.operations[0];
    expect(op.params.map((p) => p.name)).toEqual(['q', 'ok']);
    expect((op.params[1].properties as Json[]).map((f) => f.name)).toEqual(['fine']);
    const notes = (cat.notes as string[]).join('\n');
    expect(notes).toContain('#/paths/~1find/post/parameters/0: left out: parameter name "constructor"');
    expect(notes).toContain('#/paths/~1find/post/parameters/1: left out: parameter name "__proto__"');
    expect(notes).toContain('/schema/properties/prototype: left out');
    expect(String(op.disabled)).toMatch(
      new RegExp(`^${PLACEHOLDER} this operation cannot run as the spec defines it: required "filter\\[id\\]"`),
    );
  });

  it('refuses a reserved --provider (jobs), one line and exit code 2', () => {
    const r = importText(JSON.stringify({ openapi: '3.0.0', info: {}, paths: { '/x': { get: {} } } }), 'jobs');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--provider "jobs": reserved for the server's own tools/);
  });
});
