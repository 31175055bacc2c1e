import { describe, expect, it } from 'vitest';
import { loadCatalogues } from '../../src/catalogue/load.js';
import { StartupError } from '../../src/errors.js';
import { buildTools } from '../../src/tools/build.js';
import { filterTools, keepServerTool, type ToolFilter } from '../../src/tools/filter.js';
import { ACME_FILE, MEDIAIO_FILE } from '../helpers/paths.js';

const all = buildTools(loadCatalogues([MEDIAIO_FILE, ACME_FILE]));
const none: ToolFilter = { tools: [], excludeTools: [], toolsets: [], readOnly: false };
const names = (f: Partial<ToolFilter>) => filterTools(all, { ...none, ...f }).map((t) => t.name);

describe('tool filters (exclude > read-only > include > default)', () => {
  it.each<[string, Partial<ToolFilter>, (n: string[]) => void]>([
    [
      'default: every live operation, none that is off',
      {},
      (n) => {
        expect(n).toHaveLength(24);
        expect(n).not.toContain('mediaio_t2v_wan_v2_5');
      },
    ],
    ['--toolsets by provider', { toolsets: ['acme'] }, (n) => expect(n).toEqual(['acme_balance', 'acme_image_create'])],
    [
      '--toolsets by tag',
      { toolsets: ['image'] },
      (n) => {
        expect(n).toContain('acme_image_create');
        expect(n).toContain('mediaio_t2i_imagen_4');
        expect(n).not.toContain('mediaio_i2v_kling_v3_0');
      },
    ],
    [
      '--toolsets account',
      { toolsets: ['account'] },
      (n) => expect(n).toEqual(['mediaio_user_credits', 'acme_balance']),
    ],
    ['--tools only', { tools: ['mediaio_t2i_imagen_4'] }, (n) => expect(n).toEqual(['mediaio_t2i_imagen_4'])],
    [
      '--tools turns on an operation that is off by default',
      { tools: ['mediaio_t2v_wan_v2_5'] },
      (n) => expect(n).toEqual(['mediaio_t2v_wan_v2_5']),
    ],
    [
      '--tools and --toolsets add up',
      { tools: ['mediaio_t2i_imagen_4'], toolsets: ['acme'] },
      (n) => expect(n).toEqual(['mediaio_t2i_imagen_4', 'acme_balance', 'acme_image_create']),
    ],
    [
      '--read-only beats --tools',
      { tools: ['mediaio_t2i_imagen_4', 'mediaio_user_credits'], readOnly: true },
      (n) => expect(n).toEqual(['mediaio_user_credits']),
    ],
    ['--read-only alone', { readOnly: true }, (n) => expect(n).toEqual(['mediaio_user_credits', 'acme_balance'])],
    [
      '--exclude-tools beats everything',
      { tools: ['mediaio_user_credits'], excludeTools: ['mediaio_user_credits'] },
      (n) => expect(n).toEqual([]),
    ],
    [
      '--exclude-tools from the default set',
      { excludeTools: ['acme_image_create'] },
      (n) => {
        expect(n).toHaveLength(23);
        expect(n).not.toContain('acme_image_create');
      },
    ],
  ])('%s', (_what, f, check) => check(names(f)));

  it.each<[Partial<ToolFilter>, RegExp]>([
    [{ tools: ['mediaio_nope'] }, /unknown tool name\(s\) in --tools: mediaio_nope/],
    [{ excludeTools: ['nope'] }, /unknown tool name\(s\) in --exclude-tools: nope/],
    [{ toolsets: ['holograms'] }, /unknown toolset\(s\): holograms/],
  ])('unknown names stop start-up: %j', (f, says) => {
    expect(() => names(f)).toThrow(StartupError);
    expect(() => names(f)).toThrow(says);
  });

  it('server-level tools can be named in the lists', () => {
    expect(filterTools(all, { ...none, tools: ['quote'] }, ['quote'])).toEqual([]);
    expect(keepServerTool('quote', true, { ...none, tools: ['quote'] })).toBe(true);
    expect(keepServerTool('jobs_wait', true, { ...none, tools: ['quote'] })).toBe(false);
    expect(keepServerTool('jobs_cancel', false, { ...none, readOnly: true })).toBe(false);
    expect(keepServerTool('quote', true, { ...none, excludeTools: ['quote'] })).toBe(false);
    expect(keepServerTool('jobs_wait', true, { ...none, toolsets: ['image'] })).toBe(true);
  });
});
