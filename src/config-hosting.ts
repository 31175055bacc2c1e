/**
 * The hosting part of the configuration (Streamable HTTP, principals, the shared store): its zod fields,
 * flags and where each value comes from. Read only by config.ts, which owns process.env.
 */
import { z } from 'zod';

/** "120/60" -> 120 requests (or messages, or failed attempts) per 60 seconds; "off" -> no limit. */
const rate = z.string().transform((s, ctx) => {
  if (s === 'off') return undefined;
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(s.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected N/seconds or off, got "${s}"` });
    return z.NEVER;
  }
  return { requests: Number(m[1]), perSeconds: Number(m[2]) };
});

/** The shared field types of config.ts, passed in (no import cycle). */
export interface FieldTypes {
  bool: z.ZodType<boolean, z.ZodTypeDef, unknown>;
  list: z.ZodType<string[], z.ZodTypeDef, string>;
  positiveInt: z.ZodNumber;
  absolutePath: z.ZodType<string, z.ZodTypeDef, string>;
}

export function hostingFields(t: FieldTypes) {
  return {
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(3333),
    stateless: t.bool.default(false),
    allowedOrigins: t.list.default(''),
    allowedHosts: t.list.default(''),
    maxBody: t.positiveInt.default(1024 * 1024),
    httpRate: rate.default('600/60'),
    httpAuthFailRate: rate.default('10/60'),
    httpMaxBatch: t.positiveInt.max(100).default(20),
    tokensFile: t.absolutePath.optional(),
    sessionIdleSeconds: t.positiveInt.max(7 * 86_400).default(1800),
    httpMaxSessions: t.positiveInt.max(1_000_000).default(1000),
    httpMaxSessionsPerPrincipal: t.positiveInt.max(1_000_000).default(100),
    httpRequestTimeout: t.positiveInt.max(3600).default(30),
    httpMaxConnections: t.positiveInt.max(1_000_000).default(1024),
    httpMaxConnectionsPerAddress: t.positiveInt.max(1_000_000).default(128),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected postgres://…')
      .optional(),
    retentionHours: t.positiveInt.max(24 * 365).default(24),
  };
}

export const HOSTING_FLAGS = {
  host: { type: 'string' },
  stateless: { type: 'boolean' },
  'allowed-origins': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'max-body': { type: 'string' },
  'http-rate': { type: 'string' },
  'http-auth-fail-rate': { type: 'string' },
  'http-max-batch': { type: 'string' },
  'tokens-file': { type: 'string' },
  'session-idle-seconds': { type: 'string' },
  'http-max-sessions': { type: 'string' },
  'http-max-sessions-per-principal': { type: 'string' },
  'http-request-timeout': { type: 'string' },
  'http-max-connections': { type: 'string' },
  'http-max-connections-per-address': { type: 'string' },
} as const;

type Flags = Partial<Record<keyof typeof HOSTING_FLAGS, string | boolean>>;

/** Flags beat env; `port` is the HTTP port except for the sandbox command (whose own port it is). */
export function hostingRaw(f: Flags, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const pick = <T>(...v: (T | undefined)[]): T | undefined => v.find((x) => x !== undefined);
  return {
    host: pick(f.host, env.MEDIAGEN_HOST),
    stateless: pick<boolean | string>(f.stateless, env.MEDIAGEN_STATELESS),
    allowedOrigins: pick(f['allowed-origins'], env.MEDIAGEN_ALLOWED_ORIGINS),
    allowedHosts: pick(f['allowed-hosts'], env.MEDIAGEN_ALLOWED_HOSTS),
    maxBody: pick(f['max-body'], env.MEDIAGEN_MAX_BODY),
    httpRate: pick(f['http-rate'], env.MEDIAGEN_HTTP_RATE),
    httpAuthFailRate: pick(f['http-auth-fail-rate'], env.MEDIAGEN_HTTP_AUTH_FAIL_RATE),
    httpMaxBatch: pick(f['http-max-batch'], env.MEDIAGEN_HTTP_MAX_BATCH),
    tokensFile: pick(f['tokens-file'], env.MEDIAGEN_HTTP_TOKENS_FILE),
    sessionIdleSeconds: pick(f['session-idle-seconds'], env.MEDIAGEN_SESSION_IDLE_SECONDS),
    httpMaxSessions: pick(f['http-max-sessions'], env.MEDIAGEN_HTTP_MAX_SESSIONS),
    httpMaxSessionsPerPrincipal: pick(
      f['http-max-sessions-per-principal'],
      env.MEDIAGEN_HTTP_MAX_SESSIONS_PER_PRINCIPAL,
    ),
    httpRequestTimeout: pick(f['http-request-timeout'], env.MEDIAGEN_HTTP_REQUEST_TIMEOUT),
    httpMaxConnections: pick(f['http-max-connections'], env.MEDIAGEN_HTTP_MAX_CONNECTIONS),
    httpMaxConnectionsPerAddress: pick(
      f['http-max-connections-per-address'],
      env.MEDIAGEN_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    ),
    databaseUrl: env.DATABASE_URL,
    retentionHours: env.MEDIAGEN_RETENTION_HOURS,
  };
}
