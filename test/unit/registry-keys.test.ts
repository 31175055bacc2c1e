/** Start-up pays only for the providers it serves: catalogues of providers without a key are not validated or built. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { buildRegistry } from '../../src/tools/registry.js';
import { tempDir } from '../helpers/in-memory.js';

function registry(argv: string[], env: Record<string, string>, keepUnconfigured = false) {
  const { config } = loadConfig(argv, { MEDIAGEN_STATE_DIR: tempDir(), ...env });
  return buildRegistry(config, silentLogger, { keepUnconfigured });
}

/** A catalogue whose operations are invalid (validation would stop start-up). */
function brokenCatalogue(): string {
  const file = join(tempDir(), 'acme.json');
  writeFileSync(
    file,
    JSON.stringify({
      provider: 'acme',
      title: 'Acme',
      baseUrl: { env: 'ACME_BASE', default: 'https://acme.example' },
      auth: { type: 'bearer', env: 'ACME_KEY' },
      operations: [{ id: 'Bad Id', title: 'x', summary: 'x', method: 'GET', path: '/x', readOnly: true }],
    }),
  );
  return file;
}

describe('providers without a key', () => {
  it('are read, not validated or built; their tools are left out and they are reported unconfigured', async () => {
    const r = registry([], { PHAYA_API_KEY: 'k', PHAYA_BASE: 'http://127.0.0.1:9/api/v1' });
    expect(r.catalogues.map((c) => c.provider)).toEqual(['phaya']);
    expect(new Set(r.tools.map((t) => t.catalogue.provider))).toEqual(new Set(['phaya']));
    expect(r.unconfigured.sort()).toEqual(['mediaio', 'ph0ny']);
    await r.close();
  });

  it('can still be named in --tools, --toolsets and a price overlay without stopping start-up', async () => {
    const r = registry(['--tools', 'mediaio_i2v_kling_v3_0', '--toolsets', 'ph0ny,phaya'], {
      PHAYA_API_KEY: 'k',
      PHAYA_BASE: 'http://127.0.0.1:9/api/v1',
    });
    expect(r.tools.every((t) => t.catalogue.provider === 'phaya')).toBe(true);
    await r.close();
    expect(() =>
      registry(['--tools', 'mediaio_no_such_tool'], { PHAYA_API_KEY: 'k', PHAYA_BASE: 'http://127.0.0.1:9/api/v1' }),
    ).toThrow(/unknown tool name/);
  });

  it('an invalid catalogue stops start-up only when its provider has a key (and always for --list)', async () => {
    const file = brokenCatalogue();
    const r = registry(['--catalogue', file], {});
    expect(r.unconfigured).toContain('acme');
    await r.close();
    expect(() => registry(['--catalogue', file], { ACME_KEY: 'k' })).toThrow(/acme\.json: \/operations\/0\/id/);
    expect(() => registry(['--catalogue', file], {}, true)).toThrow(/acme\.json: \/operations\/0\/id/);
  });
});
