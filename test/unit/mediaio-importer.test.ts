import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalogueFile } from '../../src/catalogue/load.js';
import { condense, deriveRules } from '../../src/catalogue/mediaio.js';
import { buildTools } from '../../src/tools/build.js';
import { filterTools } from '../../src/tools/filter.js';
import { MEDIAIO_FILE } from '../helpers/paths.js';

const cat = loadCatalogueFile(MEDIAIO_FILE);
const op = (id: string) => {
  const found = cat.operations.find((o) => o.id === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found;
};
const param = (id: string, name: string) => {
  const p = op(id).params.find((q) => q.name === name);
  if (!p) throw new Error(`no param ${name}`);
  return p;
};

describe('Media.io importer on the real c_api_doc_detail.json', () => {
  it('ships the upstream file byte-identical', () => {
    const sha = createHash('sha256').update(readFileSync(MEDIAIO_FILE)).digest('hex');
    expect(sha).toBe('bcd4e484a6d9bd2a04a6d8db59886a8608e16f4086a95dbb3805a9a40cd288d7');
  });

  it('reads all 24 entries: 23 operations plus the Task Result job route', () => {
    const raw = JSON.parse(readFileSync(MEDIAIO_FILE, 'utf8')) as unknown[];
    expect(raw).toHaveLength(24);
    expect(cat.format).toBe('mediaio');
    expect(cat.operations).toHaveLength(23);
    expect(cat.operations.map((o) => o.id)).not.toContain('generation_result');
  });

  it("maps Kling 3.0's duration to exactly 5s, 8s, 10s, 15s with default 5s", () => {
    const d = param('i2v_kling_v3_0', 'duration');
    expect(d.enum).toEqual(['5s', '8s', '10s', '15s']);
    expect(d.default).toBe('5s');
    expect(d.required).toBe(false);
  });

  it('turns True/False keywords into a boolean that goes back on the wire as the provider string', () => {
    const a = param('i2v_kling_v3_0', 'generate_audio');
    expect(a.type).toBe('boolean');
    expect(a.default).toBe(true);
    expect(a.wire).toEqual({ true: 'True', false: 'False' });
  });

  it("maps Nano Banana's images to a URL array of at most 9", () => {
    const imgs = param('i2i_banana', 'images');
    expect(imgs.type).toBe('array');
    expect(imgs.items).toBe('url');
    expect(imgs.maxItems).toBe(9);
    expect(imgs.required).toBe(true);
  });

  it("reads Imagen 4's prompt limit of 1200 characters", () => {
    expect(param('t2i_imagen_4', 'prompt').maxLength).toBe(1200);
    expect(param('t2i_imagen_4', 'counts').enum).toEqual(['1', '2', '3', '4']);
  });

  it('uses the Task Result entry, with its {task_id} path parameter, as every generation job status route', () => {
    const gens = cat.operations.filter((o) => !o.readOnly);
    expect(gens).toHaveLength(22);
    for (const g of gens) {
      expect(g.job?.status).toEqual({ method: 'POST', path: '/generation/result/{task_id}', field: 'status' });
      expect(g.job?.idField).toBe('task_id');
      expect(g.job?.results[0].field).toBe('result[].preview');
    }
  });

  it('keeps the base URL overridable and the key header X-API-KEY', () => {
    expect(cat.baseUrl).toEqual({ env: 'MEDIAIO_BASE_URL', required: false, default: 'https://openapi.media.io' });
    expect(cat.auth).toEqual({ type: 'header', name: 'X-API-KEY', env: 'MEDIAIO_API_KEY' });
    expect(op('i2v_kling_v3_0').path).toBe('/generation/kling/i2v-kling-v3-0');
    expect(cat.request.wrap).toBe('data');
  });

  it('loads the status-2 entry but leaves it out unless named', () => {
    const wan = op('t2v_wan_v2_5');
    expect(wan.disabled).toMatch(/status 2/);
    expect(wan.disabled).toMatch(/undocumented/);
    expect(wan.disabled).not.toMatch(/not live/);
    const tools = buildTools([cat]);
    const none = { tools: [], excludeTools: [], toolsets: [], readOnly: false };
    expect(filterTools(tools, none).map((t) => t.name)).not.toContain('mediaio_t2v_wan_v2_5');
    const named = filterTools(tools, { ...none, tools: ['mediaio_t2v_wan_v2_5'] }).map((t) => t.name);
    expect(named).toEqual(['mediaio_t2v_wan_v2_5']);
  });

  it('names tools mediaio_ + model_code with - turned into _', () => {
    const names = buildTools([cat]).map((t) => t.name);
    expect(names).toContain('mediaio_i2v_kling_v3_0');
    expect(names).toContain('mediaio_user_credits');
  });

  it('keeps conditional constraints the schema cannot express', () => {
    // The prose's condition became a rule (stated once, on the tool's description line).
    expect(param('i2v_minimax_v2_3', 'resolution').description).toBeUndefined();
    expect(op('i2v_minimax_v2_3').rules).toEqual([
      { if: { param: 'resolution', in: ['1080P'] }, then: { param: 'duration', in: ['6s'] } },
    ]);
    // The only condition the file's prose states: no other entry has a rule.
    expect(cat.operations.filter((o) => o.rules).map((o) => o.id)).toEqual(['i2v_minimax_v2_3']);
    expect(cat.notes?.[0]).toMatch(/mediaio_i2v_minimax_v2_3: resolution 1080P only when duration is 6s\./);
  });

  it('condenses upstream prose to the facts', () => {
    expect(
      condense(
        'The URL of the input image. Supported formats include PNG, JPEG, and JPG. File size must be between 0.0 MB and 10.0 MB. Image resolution must be between 300x300 and 4000x4000. Aspect ratio must be between 1:2 and 2:1.',
      ),
    ).toBe('PNG/JPEG, max 10 MB, 300-4000 px, aspect 1:2-2:1');
    expect(
      condense('Aspect ratio must be between 0.4:1 and 2.5:1. Image resolution must be between 300x200 and 4000x4000.'),
    ).toBe('Aspect 0.4-2.5, 300x200-4000x4000 px');
  });
});

describe('deriveRules', () => {
  it('reads "X (when P is V)" as a rule when P is a sibling parameter and V one of its keywords', () => {
    const { rules, prose } = deriveRules([
      {
        name: 'resolution',
        type: 'string',
        describe: 'Options: 720P, 4K (when mode is pro). Default is 720P.',
        keywords: ['720P', '4K'],
      },
      { name: 'mode', type: 'string', describe: 'Options: std, pro.', keywords: ['std', 'pro'] },
      { name: 'fps', type: 'string', describe: 'Options: 24, 60 (when the input is short).', keywords: ['24', '60'] },
    ]);
    expect(rules).toEqual([{ if: { param: 'resolution', in: ['4K'] }, then: { param: 'mode', in: ['pro'] } }]);
    // A condition that names no parameter stays prose.
    expect(prose.get('fps')).toEqual(['60 only when the input is short.']);
  });
});
