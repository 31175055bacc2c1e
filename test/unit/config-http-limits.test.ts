/** The HTTP limits are configuration: defaults, MEDIAGEN_ variables, flags over them, and --help names each. */
import { describe, expect, it } from 'vitest';
import { loadConfig, USAGE } from '../../src/config.js';
import { StartupError } from '../../src/errors.js';

const FLAGS: [flag: string, env: string, key: string, value: string, parsed: unknown, fallback: unknown][] = [
  ['--http-max-batch', 'MEDIAGEN_HTTP_MAX_BATCH', 'httpMaxBatch', '7', 7, 20],
  [
    '--http-auth-fail-rate',
    'MEDIAGEN_HTTP_AUTH_FAIL_RATE',
    'httpAuthFailRate',
    '3/30',
    { requests: 3, perSeconds: 30 },
    { requests: 10, perSeconds: 60 },
  ],
  ['--session-idle-seconds', 'MEDIAGEN_SESSION_IDLE_SECONDS', 'sessionIdleSeconds', '90', 90, 1800],
  ['--http-max-sessions', 'MEDIAGEN_HTTP_MAX_SESSIONS', 'httpMaxSessions', '50', 50, 1000],
  [
    '--http-max-sessions-per-principal',
    'MEDIAGEN_HTTP_MAX_SESSIONS_PER_PRINCIPAL',
    'httpMaxSessionsPerPrincipal',
    '4',
    4,
    100,
  ],
  ['--http-request-timeout', 'MEDIAGEN_HTTP_REQUEST_TIMEOUT', 'httpRequestTimeout', '5', 5, 30],
  ['--http-max-connections', 'MEDIAGEN_HTTP_MAX_CONNECTIONS', 'httpMaxConnections', '64', 64, 1024],
  [
    '--http-max-connections-per-address',
    'MEDIAGEN_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    'httpMaxConnectionsPerAddress',
    '8',
    8,
    128,
  ],
];

describe('HTTP limits in the configuration', () => {
  it.each(FLAGS)(
    '%s (%s): default, variable, flag over variable, in --help',
    (flag, env, key, value, parsed, fallback) => {
      expect((loadConfig([], {}).config as Record<string, unknown>)[key]).toEqual(fallback);
      expect((loadConfig([], { [env]: value }).config as Record<string, unknown>)[key]).toEqual(parsed);
      expect((loadConfig([flag, value], { [env]: '1' }).config as Record<string, unknown>)[key]).toEqual(parsed);
      expect(USAGE).toContain(flag);
    },
  );

  it('refuses nonsense with a StartupError naming the setting', () => {
    expect(() => loadConfig(['--http-max-batch', '500'], {})).toThrow(StartupError);
    expect(() => loadConfig(['--http-request-timeout', '0'], {})).toThrow(/httpRequestTimeout/);
    expect(() => loadConfig(['--http-auth-fail-rate', 'lots'], {})).toThrow(/httpAuthFailRate/);
    expect(loadConfig(['--http-auth-fail-rate', 'off'], {}).config.httpAuthFailRate).toBeUndefined();
  });
});
