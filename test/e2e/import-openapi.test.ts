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
    expect(cat.baseUrl.env).toBe('GW_BASE_URL');
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
