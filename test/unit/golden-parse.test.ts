/**
 * The other half of the golden fixtures (the sandbox half is sandbox-golden.test.ts): the documented
 * request examples must be accepted by our tools and produce the same wire body, and the documented
 * responses must parse with our catalogues (job id, status word, outputs, answer text, charge, balance).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalogues, SHIPPED_CATALOGUES, type LoadedCatalogue } from '../../src/catalogue/load.js';
import type { Operation } from '../../src/catalogue/format.js';
import { extractOutputs } from '../../src/jobs/results.js';
import { normaliseStatus } from '../../src/jobs/status.js';
import { buildRequest, getPath, interpret } from '../../src/providers/envelope.js';
import { buildTool } from '../../src/tools/build.js';
import { ROOT } from '../helpers/paths.js';

interface Golden {
  provider: string;
  method: string;
  path: string;
  request: Record<string, unknown> | null;
  response: { status: number; body: Record<string, unknown> };
}

/** Documented fields a tool deliberately does not offer (said in the catalogue notes). */
const NOT_OFFERED = new Set(['webhook_url', 'stream']);
const dir = `${ROOT}test/fixtures/golden/`;
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(dir + f, 'utf8')) as Golden] as const);
const cats = loadCatalogues(SHIPPED_CATALOGUES);
const cat = (p: string) => cats.find((c) => c.provider === p)!;

/** The fixture path relative to the catalogue's base URL. */
function relative(c: LoadedCatalogue, path: string): string {
  const basePath = new URL(c.baseUrl.default).pathname.replace(/\/$/, '');
  return path.startsWith(basePath) ? path.slice(basePath.length) : path;
}

const same = (template: string, path: string) =>
  new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$').test(path) ||
  new RegExp('^' + path.replace(/\{[^}]+\}/g, '[^/]+') + '$').test(template);

/** The operation for this route; where several share a route (ph0ny avatar forms), the one whose schema takes the request. */
function findOperation(c: LoadedCatalogue, g: Golden): Operation | undefined {
  const rel = relative(c, g.path);
  const candidates = c.operations.filter((o) => o.method === g.method && same(o.path, rel));
  const offered = offeredArgs(g);
  return candidates.find((o) => !offered || buildTool(o, c).schema.safeParse(offered).success) ?? candidates[0];
}

function offeredArgs(g: Golden): Record<string, unknown> | undefined {
  return g.request ? Object.fromEntries(Object.entries(g.request).filter(([k]) => !NOT_OFFERED.has(k))) : undefined;
}

function findStatusOwner(c: LoadedCatalogue, g: Golden): Operation | undefined {
  const rel = relative(c, g.path);
  return c.operations.find((o) => o.job && o.job.status.method === g.method && same(o.job.status.path, rel));
}

describe('golden fixtures parse with our catalogues', () => {
  it('there are fixtures for both hand-written catalogues', () => {
    expect(fixtures.filter(([, g]) => g.provider === 'phaya').length).toBeGreaterThanOrEqual(5);
    expect(fixtures.filter(([, g]) => g.provider === 'ph0ny').length).toBeGreaterThanOrEqual(5);
  });

  for (const [file, g] of fixtures) {
    it(file, () => {
      const c = cat(g.provider);
      const op = findOperation(c, g);
      const owner = op ? undefined : findStatusOwner(c, g);
      expect(op ?? owner, `no operation or job route for ${g.method} ${g.path}`).toBeDefined();
      const { data } = interpret(c, g.response.status, JSON.stringify(g.response.body), (s) => s);

      if (op && g.request) {
        const tool = buildTool(op, c);
        const offered = offeredArgs(g) ?? {};
        const parsed = tool.schema.safeParse(offered);
        expect(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues)).toBe(true);
        const wire = JSON.parse(buildRequest(c, op, parsed.success ? parsed.data : {}).body ?? '{}') as Record<
          string,
          unknown
        >;
        for (const [k, v] of Object.entries(offered)) expect(wire[k], `${k} on the wire`).toEqual(v);
      }
      if (op?.job) expect(String(getPath(data, op.job.idField))).toMatch(/\S/);
      if (op?.response?.text) expect(typeof getPath(data, op.response.text)).toBe('string');
      if (op?.response?.charged) expect(typeof getPath(data, op.response.charged)).toBe('number');
      if (op && c.balance?.operation === op.id) expect(typeof getPath(data, c.balance.field)).toBe('number');
      if (owner?.job) {
        const word = getPath(data, owner.job.status.field);
        const status = normaliseStatus(word, owner.job);
        expect(status, `status word ${String(word)}`).toBeDefined();
        if (status === 'succeeded') expect(extractOutputs(data, owner.job).length).toBeGreaterThanOrEqual(1);
        if (status === 'failed' && owner.job.errorField) expect(getPath(data, owner.job.errorField)).toBeDefined();
      }
    });
  }
});
