/** The command line's own parsing: its flags apart from the server's, and key=value typed by the schema. */
import { describe, expect, it } from 'vitest';
import { splitCommandLine, toolArguments, UsageError } from '../../src/commands/argv.js';
import type { JsonSchema } from '../../src/tools/build.js';

const schema: JsonSchema = {
  type: 'object' as const,
  properties: {
    prompt: { type: 'string' },
    n: { type: 'integer' },
    ratio: { type: 'number' },
    audio: { type: 'boolean' },
    duration: { enum: ['4', '8', '12'] },
    urls: { type: 'array', items: { type: 'string' } },
    seeds: { type: 'array', items: { type: 'integer' } },
    extra: { type: 'object' },
  },
};

describe('splitCommandLine', () => {
  it('keeps command words, takes its own flags and passes server flags (with their values) to the config', () => {
    const cl = splitCommandLine([
      'call',
      'phaya_x',
      'prompt=a b',
      '--sandbox',
      '--state-dir',
      '/tmp/s',
      '--json',
      '--wait',
      '--confirm-token=ct_1',
      '--download',
      'out',
      '--cap-day=phaya=3',
    ]);
    expect(cl.words).toEqual(['call', 'phaya_x', 'prompt=a b']);
    expect(cl).toMatchObject({ json: true, wait: true, confirmToken: 'ct_1', downloadDir: 'out' });
    expect(cl.configArgv).toEqual(['--sandbox', '--state-dir', '/tmp/s', '--cap-day=phaya=3', '--output-dir', 'out']);
  });

  it('refuses unknown options and a missing value', () => {
    expect(() => splitCommandLine(['call', '--yes'])).toThrow(UsageError);
    expect(() => splitCommandLine(['call', 'x', '--confirm-token'])).toThrow(/needs a value/);
  });
});

describe('toolArguments', () => {
  it('types words from the schema', () => {
    expect(
      toolArguments(
        [
          'prompt=a=b',
          'n=2',
          'ratio=1.5',
          'audio=yes',
          'duration=8s',
          'urls=u1',
          'urls=u2',
          'seeds=[1,2]',
          'extra={"k":1}',
        ],
        schema,
      ),
    ).toEqual({
      prompt: 'a=b',
      n: 2,
      ratio: 1.5,
      audio: true,
      duration: '8',
      urls: ['u1', 'u2'],
      seeds: [1, 2],
      extra: { k: 1 },
    });
  });

  it('leaves what does not fit for the validator to name, and merges --json-args under key=value', () => {
    expect(toolArguments(['n=two', 'audio=maybe', 'other=1'], schema)).toEqual({
      n: 'two',
      audio: 'maybe',
      other: '1',
    });
    expect(toolArguments(['n=3'], schema, '{"n":1,"prompt":"p"}')).toEqual({ n: 3, prompt: 'p' });
    expect(() => toolArguments(['prompt'], schema)).toThrow(/key=value/);
    expect(() => toolArguments([], schema, '[1]')).toThrow(/JSON object/);
    expect(() => toolArguments(['extra={'], schema)).toThrow(/not valid JSON/);
  });
});
