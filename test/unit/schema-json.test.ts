import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogueJsonSchemaText } from '../../src/catalogue/schema-json.js';
import { ROOT } from '../helpers/paths.js';

describe('catalogues/schema.json', () => {
  it('is the JSON Schema generated from the zod schema (run `npm run schema` when this fails)', () => {
    expect(readFileSync(`${ROOT}catalogues/schema.json`, 'utf8')).toBe(catalogueJsonSchemaText());
  });
});
