import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogueFile, loadCatalogues } from '../../src/catalogue/load.js';
import { StartupError } from '../../src/errors.js';
import { ACME_FILE, MEDIAIO_FILE } from '../helpers/paths.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dir = mkdtempSync(join(tmpdir(), 'mediagen-loader-'));
const base = (): Json => JSON.parse(readFileSync(ACME_FILE, 'utf8'));

function write(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StartupError);
    return (e as Error).message;
  }
  throw new Error('expected the catalogue to be rejected');
}

const rules: { rule: string; mutate: (c: Json) => void; pointer: string; says: RegExp }[] = [
  {
    rule: 'schema: bad method',
    mutate: (c) => (c.operations[1].method = 'FETCH'),
    pointer: '/operations/1/method',
    says: /Invalid enum value/,
  },
  {
    rule: 'schema: unknown field',
    mutate: (c) => (c.operations[1].colour = 'red'),
    pointer: '/operations/1',
    says: /Unrecognized key/,
  },
  {
    rule: 'schema: bad price shape',
    mutate: (c) => (c.operations[1].price = { credits: -1 }),
    pointer: '/operations/1/price/credits',
    says: /greater than or equal to 0/,
  },
  {
    rule: 'duplicate tool name',
    mutate: (c) => (c.operations[1].id = 'balance'),
    pointer: '/operations/1/id',
    says: /duplicate operation id "balance"/,
  },
  {
    rule: 'tool name over 64 characters',
    mutate: (c) => (c.operations[1].id = 'x'.repeat(60)),
    pointer: '/operations/1/id',
    says: /must match/,
  },
  {
    rule: 'tool id with capitals',
    mutate: (c) => (c.operations[1].id = 'Image'),
    pointer: '/operations/1/id',
    says: /lower-case/,
  },
  {
    rule: 'placeholder without a path parameter',
    mutate: (c) => (c.operations[1].path = '/image/{model}/{size}/create'),
    pointer: '/operations/1/path',
    says: /\{size\} has no parameter with "in": "path"/,
  },
  {
    rule: 'path parameter missing from the path',
    mutate: (c) => (c.operations[1].path = '/image/create'),
    pointer: '/operations/1/params/0/in',
    says: /does not appear/,
  },
  {
    rule: 'job route that does not resolve',
    mutate: (c) => (c.operations[1].job.status.path = '/image/status'),
    pointer: '/operations/1/job/status/path',
    says: /exactly one \{placeholder\}/,
  },
  {
    rule: 'webhookParam naming a parameter that is not an optional URL in the body',
    mutate: (c) => (c.operations[1].job.webhookParam = 'prompt'),
    pointer: '/operations/1/job/webhookParam',
    says: /optional body parameter of image_create of type string with format url/,
  },
  {
    rule: 'webhookParam naming no parameter',
    mutate: (c) => (c.operations[1].job.webhookParam = 'callback'),
    pointer: '/operations/1/job/webhookParam',
    says: /"callback" must be an optional body parameter/,
  },
  {
    rule: 'price keyed by a parameter that does not exist',
    mutate: (c) => (c.operations[1].price.table.by = ['quality']),
    pointer: '/operations/1/price/table/by/0',
    says: /"quality" is not a parameter/,
  },
  {
    rule: 'price row with a value the enum does not have',
    mutate: (c) => (c.operations[1].price.table.rows['8K'] = 9),
    pointer: '/operations/1/price/table/rows/8K',
    says: /"8K" is not a value of "size"/,
  },
  {
    rule: 'paid operation without a price',
    mutate: (c) => delete c.operations[1].price,
    pointer: '/operations/1',
    says: /has no price/,
  },
  {
    rule: 'array without items',
    mutate: (c) => delete c.operations[1].params[3].items,
    pointer: '/operations/1/params/3',
    says: /needs "items"/,
  },
  {
    rule: 'enum default outside the enum',
    mutate: (c) => (c.operations[1].params[2].default = '4K'),
    pointer: '/operations/1/params/2/default',
    says: /not one of the enum values/,
  },
  {
    rule: "nullable parameter with a non-null default (a strict client's null would replace the default)",
    mutate: (c) => (c.operations[1].params[2].nullable = true),
    pointer: '/operations/1/params/2/default',
    says: /"size" is nullable with default "1K": a strict client's null .* would be sent as null/,
  },
  {
    rule: 'duplicate parameter',
    mutate: (c) => c.operations[1].params.push({ name: 'prompt', type: 'string' }),
    pointer: '/operations/1/params/4/name',
    says: /duplicate parameter/,
  },
  {
    rule: 'default of another type than its parameter',
    mutate: (c) => (c.operations[1].params[1].default = { a: 1 }),
    pointer: '/operations/1/params/1/default',
    says: /is not of type string/,
  },
  {
    rule: 'provider under a reserved prefix',
    mutate: (c) => (c.provider = 'jobs'),
    pointer: '/provider',
    says: /provider "jobs" is reserved/,
  },
  {
    rule: 'parameter named constructor',
    mutate: (c) => (c.operations[1].params[1].name = 'constructor'),
    pointer: '/operations/1/params/1/name',
    says: /every JavaScript object inherits/,
  },
  {
    rule: 'parameter name with a space',
    mutate: (c) => (c.operations[1].params[1].name = 'the prompt'),
    pointer: '/operations/1/params/1/name',
    says: /must match/,
  },
  {
    rule: 'parameter named like a guard field',
    mutate: (c) => (c.operations[1].params[1].name = 'idempotency_key'),
    pointer: '/operations/1/params/1/name',
    says: /the cost guard's own argument/,
  },
  {
    rule: 'result path through __proto__',
    mutate: (c) => (c.operations[1].job.results[0].field = 'data.__proto__.url'),
    pointer: '/operations/1/job/results/0/field',
    says: /"__proto__" in "data.__proto__.url"/,
  },
  {
    rule: 'provider error code named hasOwnProperty',
    mutate: (c) => (c.response = { envelope: { code: 'code', ok: [0], errors: { hasOwnProperty: 'PROVIDER_AUTH' } } }),
    pointer: '/response/envelope/errors/hasOwnProperty',
    says: /every JavaScript object inherits/,
  },
];

describe('catalogue loader', () => {
  it('accepts the fixture catalogue and the real Media.io file', () => {
    expect(loadCatalogueFile(ACME_FILE).operations).toHaveLength(2);
    expect(loadCatalogues([MEDIAIO_FILE, ACME_FILE]).map((c) => c.provider)).toEqual(['mediaio', 'acme']);
  });

  for (const r of rules) {
    it(`rejects: ${r.rule}, naming the file and ${r.pointer}`, () => {
      const c = base();
      r.mutate(c);
      const file = write(`${r.rule.replace(/\W+/g, '-')}.json`, JSON.stringify(c));
      const msg = failure(() => loadCatalogueFile(file));
      expect(msg.startsWith(`${file}: ${r.pointer}: `)).toBe(true);
      expect(msg).toMatch(r.says);
    });
  }

  it('rejects a document nested deeper than 64 levels, naming where, without a stack overflow', () => {
    const file = write('deep.json', '['.repeat(100_000) + ']'.repeat(100_000));
    expect(failure(() => loadCatalogueFile(file))).toBe(`${file}: ${'/0'.repeat(65)}: nested deeper than 64 levels`);
  });

  it('rejects one tool name from two catalogues (provider acme + id image_create, provider acme_image + id create)', () => {
    const one = base();
    one.provider = 'acme_image';
    one.operations[1].id = 'create';
    const a = write('acme-image.json', JSON.stringify(one));
    expect(failure(() => loadCatalogues([ACME_FILE, a]))).toBe(
      `${a}: /operations/1/id: tool name "acme_image_create" is also defined by ${ACME_FILE}`,
    );
  });

  it('looks price rows and provider error codes up without the prototype', () => {
    const c = loadCatalogueFile(ACME_FILE);
    const price = c.operations[1].price as { table: { rows: Record<string, number> } };
    expect(price.table.rows.constructor).toBeUndefined();
    expect(price.table.rows['1K']).toBe(2);
  });

  it('rejects a file that is not JSON', () => {
    const file = write('broken.json', '{"provider": ');
    expect(failure(() => loadCatalogueFile(file))).toMatch(new RegExp(`^${file}: /: not valid JSON`));
  });

  it('rejects a missing file', () => {
    expect(failure(() => loadCatalogueFile(join(dir, 'nope.json')))).toMatch(
      /nope\.json: \/: cannot read the file \(ENOENT\)/,
    );
  });

  it('rejects two catalogues for the same provider', () => {
    const file = write('acme-again.json', JSON.stringify(base()));
    expect(failure(() => loadCatalogues([ACME_FILE, file]))).toBe(
      `${file}: /provider: provider "acme" is also defined by ${ACME_FILE}`,
    );
  });

  it('rejects a Media.io-format file whose sub-document is not JSON, pointing into the upstream array', () => {
    const raw = JSON.parse(readFileSync(MEDIAIO_FILE, 'utf8')) as Json[];
    raw[3].api_body = '{not json';
    const file = write('mediaio-bad.json', JSON.stringify(raw));
    expect(failure(() => loadCatalogueFile(file))).toBe(
      `${file}: /3/api_body: expected a JSON object stored as a string`,
    );
  });

  it('rejects a Media.io-format file with a duplicate name', () => {
    const raw = JSON.parse(readFileSync(MEDIAIO_FILE, 'utf8')) as Json[];
    raw[5].name = raw[4].name;
    const file = write('mediaio-dup.json', JSON.stringify(raw));
    expect(failure(() => loadCatalogueFile(file))).toMatch(new RegExp(`/5/name: duplicate name`));
  });
});
