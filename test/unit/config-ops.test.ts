/** The operator's settings at their edges: a bracketed IPv6 host, a token with whitespace, an empty port. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { wantsJsonLog } from '../../src/config-ops.js';

const TOKEN = 'metrics-token-0123456789';

describe('operator settings', () => {
  it('takes [::1] as ::1 (what listen() binds), from the flag and the environment', () => {
    expect(loadConfig(['--metrics-port', '0', '--metrics-host', '[::1]'], {}).config.metricsHost).toBe('::1');
    expect(loadConfig([], { MEDIAGEN_METRICS_HOST: '[::1]' }).config.metricsHost).toBe('::1');
    expect(() => loadConfig(['--metrics-host', '[::]'], {})).toThrow(/loopback address only/);
  });

  it('trims the metrics token; an empty one is unset', () => {
    expect(loadConfig([], { MEDIAGEN_METRICS_TOKEN: `  ${TOKEN}\n` }).config.metricsToken).toBe(TOKEN);
    expect(loadConfig([], { MEDIAGEN_METRICS_TOKEN: '' }).config.metricsToken).toBeUndefined();
    expect(() => loadConfig([], { MEDIAGEN_METRICS_TOKEN: '  short  ' })).toThrow(/at least 16 characters/);
  });

  it('an empty MEDIAGEN_METRICS_PORT is unset, never port 0', () => {
    expect(loadConfig([], { MEDIAGEN_METRICS_PORT: '' }).config.metricsPort).toBeUndefined();
    expect(loadConfig([], { MEDIAGEN_METRICS_PORT: ' ' }).config.metricsPort).toBeUndefined();
    expect(loadConfig([], { MEDIAGEN_METRICS_PORT: '0' }).config.metricsPort).toBe(0);
    expect(loadConfig([], { MEDIAGEN_METRICS_PORT: '9464' }).config.metricsPort).toBe(9464);
  });

  it('reads --log-format json from the words before the configuration is parsed', () => {
    expect(wantsJsonLog(['--log-format', 'json'], {})).toBe(true);
    expect(wantsJsonLog(['--log-format=json'], {})).toBe(true);
    expect(wantsJsonLog([], { MEDIAGEN_LOG_FORMAT: 'json' })).toBe(true);
    expect(wantsJsonLog(['--log-format', 'text'], { MEDIAGEN_LOG_FORMAT: 'json' })).toBe(false);
    expect(wantsJsonLog([], {})).toBe(false);
  });
});
