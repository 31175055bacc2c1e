/**
 * `describe` on the built bin names a nullable field's type in words ("string or null"), not as the JSON
 * array it is listed as. The shapes test catalogue has nullable fields; nothing is called.
 */
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { runPiped } from '../helpers/terminal.js';

describe('describe: nullable types', () => {
  it('says "string or null" and "integer or null"', async () => {
    const d = await runPiped(
      ['describe', 'shapes_every_shape', '--catalogue', `${ROOT}test/fixtures/catalogues/strict-shapes.json`],
      { SHAPES_API_KEY: 'k', SHAPES_BASE_URL: 'http://127.0.0.1:9' },
    );
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^ {2}mode=string or null \(one of a\|b\|null\)/m);
    expect(d.stdout).toMatch(/^ {2}seed=integer or null/m);
    expect(d.stdout).not.toContain('string,null');
  });
});
