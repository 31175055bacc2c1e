/**
 * The operator's part of the configuration: log format, and where /metrics is served (a loopback-only
 * port, and/or the HTTP server's /metrics behind its own token). Read only by config.ts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

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
    metricsHost: z
      .string()
      .refine(isLoopback, 'metrics are served on a loopback address only (127.0.0.1, ::1 or localhost)')
      .default('127.0.0.1'),
    /** The HTTP server's GET /metrics needs `Authorization: Bearer <this>` (environment only). */
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
  return {
    logFormat: pick(f['log-format'], env.MEDIAGEN_LOG_FORMAT),
    metricsPort: pick(f['metrics-port'], env.MEDIAGEN_METRICS_PORT),
    metricsHost: pick(f['metrics-host'], env.MEDIAGEN_METRICS_HOST),
    metricsToken: env.MEDIAGEN_METRICS_TOKEN,
  };
}
