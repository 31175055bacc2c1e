import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { StartupError } from '../../src/errors.js';

describe('config', () => {
  it('has sensible defaults', () => {
    const { config } = loadConfig([], {});
    expect(config).toMatchObject({
      command: 'serve',
      transport: 'stdio',
      sandbox: false,
      httpTimeoutMs: 30000,
      tools: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes env over defaults and flags over env', () => {
    const env = { MEDIAGEN_HTTP_TIMEOUT_MS: '5000', MEDIAGEN_SANDBOX: '1', MEDIAGEN_TOOLS: 'a, b' };
    expect(loadConfig([], env).config).toMatchObject({ httpTimeoutMs: 5000, sandbox: true, tools: ['a', 'b'] });
    expect(loadConfig(['--http-timeout-ms', '700', '--tools', 'c'], env).config).toMatchObject({
      httpTimeoutMs: 700,
      tools: ['c'],
    });
  });

  it('collects repeatable --catalogue flags, or MEDIAGEN_CATALOGUES split on the path delimiter', () => {
    expect(loadConfig(['--catalogue', 'a.json', '--catalogue', 'b.json'], {}).config.catalogues).toEqual([
      'a.json',
      'b.json',
    ]);
    expect(loadConfig([], { MEDIAGEN_CATALOGUES: 'x.json:y.json' }).config.catalogues).toEqual(['x.json', 'y.json']);
  });

  it('reads the download guard settings: allowed hosts (no brackets, lower case) and outputs per job', () => {
    expect(loadConfig([], {}).config).toMatchObject({ downloadAllow: [], downloadMaxOutputs: 10 });
    const env = { MEDIAGEN_DOWNLOAD_ALLOW: 'CDN.internal, 127.0.0.1,[::1]', MEDIAGEN_DOWNLOAD_MAX_OUTPUTS: '3' };
    expect(loadConfig([], env).config).toMatchObject({
      downloadAllow: ['cdn.internal', '127.0.0.1', '::1'],
      downloadMaxOutputs: 3,
    });
    expect(loadConfig(['--download-allow', 'a.b', '--download-max-outputs', '1'], env).config).toMatchObject({
      downloadAllow: ['a.b'],
      downloadMaxOutputs: 1,
    });
    expect(() => loadConfig(['--download-allow', 'http://x/'], {})).toThrow(/invalid downloadAllow/);
    expect(() => loadConfig(['--download-max-outputs', '0'], {})).toThrow(/invalid downloadMaxOutputs/);
  });

  it('treats empty variables as unset (desktop bundles pass "" for blank settings)', () => {
    const { config } = loadConfig([], { MEDIAGEN_OUTPUT_DIR: '', MEDIAGEN_SANDBOX: '', MEDIAGEN_CAP_DAY: ' ' });
    expect(config.outputDir).toBeUndefined();
    expect(config.sandbox).toBe(false);
    expect(config.capDay).toEqual({});
  });

  it.each([
    [['--http-timeout-ms', 'abc'], {}, /invalid httpTimeoutMs/],
    [[], { MEDIAGEN_LOG_LEVEL: 'loud' }, /invalid logLevel/],
    [['--transport', 'carrier-pigeon'], {}, /invalid transport/],
    [['--nope'], {}, /Unknown option '--nope'/],
    [['serve', 'extra'], {}, /unexpected argument "extra"/],
    [['launch'], {}, /unknown command "launch"/],
  ])('refuses bad input %j %j with one clear message', (argv, env, says) => {
    expect(() => loadConfig(argv, env)).toThrow(StartupError);
    expect(() => loadConfig(argv, env)).toThrow(says);
  });
});
