/** `describe`'s argument facts read any listed JSON Schema: nullable branches, type arrays, exclusive bounds. */
import { describe, expect, it } from 'vitest';
import { argumentFacts } from '../../src/commands/describe.js';

describe('describe: the facts of one argument', () => {
  it('reads limits inside a nullable anyOf branch, with the default on the property', () => {
    const p = {
      anyOf: [{ type: 'string', minLength: 1, maxLength: 80, format: 'uri' }, { type: 'null' }],
      default: null,
    };
    expect(argumentFacts(p, false)).toEqual({ type: 'string', facts: ['length 1–80', 'a URL', 'default null'] });
  });

  it('reads a type array with null, exclusive bounds and a multiple', () => {
    const p = { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 2, multipleOf: 0.5 };
    expect(argumentFacts(p, true)).toEqual({
      type: 'number or null',
      facts: ['required', 'range 0 (excl.)–2', 'multiple of 0.5'],
    });
  });

  it('an enum with its type, and an array of enums with item counts', () => {
    expect(argumentFacts({ type: 'string', enum: ['a', 'b'], default: 'a' }, false)).toEqual({
      type: 'string',
      facts: ['one of a|b', 'default "a"'],
    });
    const arr = {
      type: 'array',
      items: { type: 'string', enum: ['x', 'y'] },
      minItems: 1,
      maxItems: 2,
      uniqueItems: true,
    };
    expect(argumentFacts(arr, false)).toEqual({
      type: 'string[]',
      facts: ['items 1–2', 'each one of x|y', 'no repeats'],
    });
  });
});
