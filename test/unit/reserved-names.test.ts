/** The names catalogues may not use, read from the one list (catalogue/names.ts). */
import { describe, expect, it } from 'vitest';
import {
  GUARD_PARAM_NAMES,
  RESERVED_PREFIXES,
  SERVER_TOOL_NAMES,
  reservedPrefix,
  unsafeParamName,
} from '../../src/catalogue/names.js';
import { GUARD_FIELDS } from '../../src/tools/validator.js';

describe('reserved and unsafe names', () => {
  it('reserves the first word of every server tool as a prefix', () => {
    expect([...RESERVED_PREFIXES].sort()).toEqual(['jobs', 'media', 'mediagen', 'models', 'quote', 'spend']);
    for (const n of SERVER_TOOL_NAMES) expect(reservedPrefix(n), n).toBeDefined();
    expect(reservedPrefix('jobs_anything')).toBe('jobs');
    expect(reservedPrefix('jobsite')).toBeUndefined();
    expect(reservedPrefix('phaya')).toBeUndefined();
  });

  it('lists the guard fields exactly as the validator defines them', () => {
    expect([...GUARD_PARAM_NAMES].sort()).toEqual(Object.keys(GUARD_FIELDS).sort());
  });

  it('accepts the property keys tool-calling APIs accept and nothing an object inherits', () => {
    for (const ok of ['prompt', 'image_urls', 'a.b', 'x-y', '_private', '9lives', 'A'.repeat(64)])
      expect(unsafeParamName(ok), ok).toBeUndefined();
    for (const bad of [
      'constructor',
      '__proto__',
      'prototype',
      'toString',
      'valueOf',
      'filter[id]',
      'two words',
      '',
      'é',
      'A'.repeat(65),
      'confirm_token',
    ])
      expect(unsafeParamName(bad), bad).toBeDefined();
  });
});
