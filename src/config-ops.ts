/**
 * The operator's part of the configuration: log format, and where /metrics is served (a loopback-only
 * port, and/or the HTTP server's /metrics behind its own token). Read only by config.ts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const unbracket = (host: string): string => host.trim().replace(/^\[(.*)\]$/, '$1');

/** 127.x.y.z, ::1 or localhost (transports/http-guard.ts isLoopback, kept here so config imports no transport). */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

export function opsFields() {
  return {
    logFormat: z.enum(['text', 'json']).default('text'),
    /** A loopback-only port serving GET /metrics without a token (also beside stdio); 0: a free one. */
    metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
    /** Where listen() binds: `[::1]` is written as `::1`. */
    metricsHost: z
      .string()
      .transform(unbracket)
      .refine(isLoopback, 'metrics are served on a loopback address only (127.0.0.1, ::1 or localhost)')
      .default('127.0.0.1'),
    /** The HTTP server's GET /metrics needs `Authorization: Bearer <this>` (environment only; trimmed). */
    metricsToken: z.string().min(16, 'MEDIAGEN_METRICS_TOKEN: at least 16 characters').optional(),
  };
}

export const OPS_FLAGS = {
  'log-format': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
} as const;

export const OPS_USAGE = `  --log-format FORMAT      text (default) | json: one JSON object per line on stderr (MEDIAGEN_LOG_FORMAT)
  --metrics-port N         serve GET /metrics (Prometheus) on 127.0.0.1:N, no token, also beside stdio
                           (MEDIAGEN_METRICS_PORT; --metrics-host: another loopback address only);
                           MEDIAGEN_METRICS_TOKEN (env only) serves it on the HTTP server behind that token
`;

type Flags = Partial<Record<keyof typeof OPS_FLAGS, string | boolean>>;

export function opsRaw(f: Flags, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const pick = <T>(...v: (T | undefined)[]): T | undefined => v.find((x) => x !== undefined);
  // An empty variable (MEDIAGEN_METRICS_PORT=) is an unset one, never port 0; values are trimmed.
  const set = (v: string | undefined): string | undefined =>
    v === undefined || v.trim() === '' ? undefined : v.trim();
  const flag = (v: string | boolean | undefined): string | undefined => set(typeof v === 'string' ? v : undefined);
  return {
    logFormat: pick(flag(f['log-format']), set(env.MEDIAGEN_LOG_FORMAT)),
    metricsPort: pick(flag(f['metrics-port']), set(env.MEDIAGEN_METRICS_PORT)),
    metricsHost: pick(flag(f['metrics-host']), set(env.MEDIAGEN_METRICS_HOST)),
    metricsToken: set(env.MEDIAGEN_METRICS_TOKEN),
  };
}

/**
 * Whether a start-up failure must be told as a JSON log line: --log-format json (or MEDIAGEN_LOG_FORMAT=json
 * without the flag), read from the words as they are, for failures before the configuration is parsed.
 */
export function wantsJsonLog(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): boolean {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i].startsWith('--log-format=')) return argv[i].slice('--log-format='.length) === 'json';
    if (argv[i] === '--log-format') return argv[i + 1] === 'json';
  }
  return env.MEDIAGEN_LOG_FORMAT?.trim() === 'json';
}
