/**
 * Configuration: one zod schema, parsed once from flags and the environment (flags beat env beat
 * defaults), then frozen. The ONLY module that reads process.env.
 */
import { delimiter, resolve } from 'node:path';
import { defaultStateDir } from './store/open.js';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { StartupError } from './errors.js';
import { HOSTING_FLAGS, hostingFields, hostingRaw } from './config-hosting.js';
import { AUTH_FLAGS, AUTH_USAGE, authFields, authRaw } from './config-auth.js';
import { MEDIA_FLAGS, MEDIA_USAGE, mediaFields, mediaRaw } from './config-media.js';
import { OPS_FLAGS, OPS_USAGE, opsFields, opsRaw } from './config-ops.js';
import { unknownCommand } from './commands/help.js';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const bool = z
  .union([z.boolean(), z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', ''])])
  .transform((v) => (typeof v === 'boolean' ? v : ['1', 'true', 'yes', 'on'].includes(v)));

const positiveInt = z.coerce.number().int().positive();

/** A boolean flag or variable before the schema parses it (the sandbox switch picks the state folder). */
const isOn = (v: boolean | string | undefined): boolean =>
  v === true || (typeof v === 'string' && bool.safeParse(v).data === true);

/** "phaya=100,mediaio=40" -> { phaya: 100, mediaio: 40 } */
const perProvider = z.string().transform((s, ctx) => {
  const out: Record<string, number> = {};
  for (const part of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9_]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `expected provider=credits pairs, got "${part}"` });
      return z.NEVER;
    }
    out[m[1]] = Number(m[2]);
  }
  return out;
});

/** "phaya=120/60,mediaio=off" -> { phaya: {requests: 120, perSeconds: 60}, mediaio: 'off' } */
const rateLimits = z.string().transform((s, ctx) => {
  const out: Record<string, { requests: number; perSeconds: number } | 'off'> = {};
  for (const part of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9_]+)=(?:(off)|(\d+)\/(\d+(?:\.\d+)?))$/.exec(part);
    if (!m || (m[3] && (Number(m[3]) < 1 || Number(m[4]) <= 0))) {
      ctx.addIssue({ code: 'custom', message: `expected provider=N/seconds or provider=off, got "${part}"` });
      return z.NEVER;
    }
    out[m[1]] = m[2] ? 'off' : { requests: Number(m[3]), perSeconds: Number(m[4]) };
  }
  return out;
});

/** "cdn.internal,127.0.0.1,[::1]" -> lower-case host names / IP literals (IPv6 without brackets). */
const hostList = list.pipe(
  z.array(
    z
      .string()
      .regex(
        /^(?:[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$/,
        'expected host names or IP addresses (no scheme, port or path)',
      )
      .transform((h) => h.replace(/^\[(.*)\]$/, '$1').toLowerCase()),
  ),
);

const absolutePath = z
  .string()
  .min(1)
  .transform((p) => resolve(p));

/** The commands loadConfig serves (the command line's own, help and import-openapi are routed before it). */
const CONFIG_COMMANDS = ['serve', 'list', 'sandbox', 'token', 'export-prices', 'ui'] as const;

export const ConfigSchema = z
  .object({
    command: z.enum(CONFIG_COMMANDS).default('serve'),
    /** `token add <principal>`: the words after the command. */
    commandArgs: z.array(z.string()).default([]),
    transport: z.enum(['stdio', 'http']).default('stdio'),
    sandbox: bool.default(false),
    catalogues: z.array(z.string().min(1)).default([]),
    tools: list.default(''),
    excludeTools: list.default(''),
    toolsets: list.default(''),
    readOnly: bool.default(false),
    httpTimeoutMs: positiveInt.max(600_000).default(30_000),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    sandboxPort: z.coerce.number().int().min(0).max(65535).default(0),
    /** `ui`: its loopback port (0: a free one). */
    uiPort: z.coerce.number().int().min(0).max(65535).default(0),
    stateDir: absolutePath,
    outputDir: absolutePath.optional(),
    download: bool.default(false),
    downloadMaxMb: positiveInt.max(10_000).default(500),
    downloadMaxOutputs: positiveInt.max(1_000).default(10),
    downloadAllow: hostList.default(''),
    prices: z.string().min(1).optional(),
    capSession: perProvider.default(''),
    capDay: perProvider.default(''),
    confirm: z.enum(['default', 'all']).default('default'),
    confirmAbove: perProvider.default(''),
    consent: z.enum(['auto', 'elicitation', 'token', 'app-or-form']).default('auto'),
    consentOff: list.default(''),
    trustObservedPrices: bool.default(false),
    unknownPriceReserve: z.coerce.number().positive().max(1e9).optional(),
    tokenTtlSeconds: positiveInt.max(86_400).default(600),
    waitSeconds: positiveInt.max(55).default(45),
    pollMs: positiveInt.max(60_000).optional(),
    rateLimit: rateLimits.default(''),
    ...hostingFields({ bool, list, positiveInt, absolutePath }),
    ...mediaFields({ bool, list, positiveInt, absolutePath }),
    ...authFields({ bool, list, positiveInt, absolutePath }),
    ...opsFields(),
    drainSeconds: z.coerce.number().int().min(0).max(300).default(10),
    /** At start, how long an unavailable store is retried (with backoff) before giving up. */
    storeStartSeconds: z.coerce.number().int().min(0).max(3_600).default(30),
    consentTimeoutSeconds: positiveInt.max(600).default(60),
  })
  .strict();

export type Config = Readonly<z.infer<typeof ConfigSchema>> & {
  /** Snapshot of the environment: provider keys and base URLs are looked up here by catalogue env names. */
  readonly env: Readonly<Record<string, string | undefined>>;
};

export const FLAGS = {
  list: { type: 'boolean' },
  sandbox: { type: 'boolean' },
  transport: { type: 'string' },
  catalogue: { type: 'string', multiple: true },
  tools: { type: 'string' },
  'exclude-tools': { type: 'string' },
  toolsets: { type: 'string' },
  'read-only': { type: 'boolean' },
  'http-timeout-ms': { type: 'string' },
  'log-level': { type: 'string' },
  port: { type: 'string' },
  'state-dir': { type: 'string' },
  'output-dir': { type: 'string' },
  download: { type: 'boolean' },
  'download-allow': { type: 'string' },
  'download-max-outputs': { type: 'string' },
  prices: { type: 'string' },
  'cap-session': { type: 'string' },
  'cap-day': { type: 'string' },
  confirm: { type: 'string' },
  'confirm-above': { type: 'string' },
  consent: { type: 'string' },
  'consent-off': { type: 'string' },
  'trust-observed-prices': { type: 'boolean' },
  'unknown-price-reserve': { type: 'string' },
  'wait-seconds': { type: 'string' },
  'rate-limit': { type: 'string' },
  ...HOSTING_FLAGS,
  ...MEDIA_FLAGS,
  ...AUTH_FLAGS,
  ...OPS_FLAGS,
  'drain-seconds': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

export const USAGE = `Usage: mediagen-mcp [command] [options]

Commands:
  serve (default)          run the MCP server (stdio, or Streamable HTTP with --transport http)
  list [--json]            the tools and their price lines (as --list); --json: as a client lists them
  sandbox                  run only the local sandbox gateway (no key, no spend)
  token add PRINCIPAL      add a bearer token for PRINCIPAL to --tokens-file (created if missing);
                           prints the new token once on stdout (only its SHA-256 hash is stored)
  export-prices            print the observed prices as a --prices overlay (highest observed per tool)
  ui [--port N]            serve the gallery and the spend view on 127.0.0.1 for the person at the desk
                           (same state folder / DATABASE_URL as serve); prints its URL, with a random
                           per-run token, on stderr; read-only except cancel (MEDIAGEN_UI_PORT; default: free);
                           ui --sandbox starts no gateway: it uses serve's, named by MEDIAGEN_SANDBOX_PORT
  import-openapi SPEC.json --provider NAME
                           print a draft catalogue made from an OpenAPI 3.0/3.1 document
  help [COMMAND]           this text, or one command's usage (also: COMMAND --help)

Options:
  --list                   print the catalogue tools served (name, provider, notes, price line), say which are not listed, and exit
  --sandbox                point every provider at a built-in local gateway with a dummy key
  --catalogue FILE         add a catalogue file (repeatable; env MEDIAGEN_CATALOGUES, ${delimiter}-separated)
  --tools a,b              only these tools (also enables operations that are off by default)
  --exclude-tools a,b      never these tools
  --toolsets a,b           only tools of these providers or tags (image, video, account, ...)
  --read-only              only read-only tools
  --http-timeout-ms N      overall deadline of one provider request (default 30000)
  --log-level LEVEL        debug | info | warn | error (stderr only)
${OPS_USAGE}  --transport MODE         stdio (default) | http (MEDIAGEN_TRANSPORT)
  --host ADDR              HTTP bind address (default 127.0.0.1; any other needs --tokens-file)
  --port N                 HTTP port (default 3333); for the sandbox and ui commands their port (default: free)
  --stateless              HTTP without sessions, for replicas behind a load balancer (consent by token)
  --allowed-origins a,b    browser Origins accepted (others get 403; no Origin header is accepted)
  --allowed-hosts a,b      Host header names accepted besides the bound host (DNS rebinding guard)
  --max-body BYTES         largest HTTP request body (default 1048576; larger gets 413)
  --http-rate N/S          JSON-RPC messages per principal per S seconds, each message of a batch counted
                           (default 600/60; off = no limit)
  --http-max-batch N       messages in one JSON-RPC batch, protocol 2025-03-26 and older only (default 20)
  --http-auth-fail-rate N/S  failed bearer attempts per client address per S seconds; past it the address
                           gets 429, a right token included (default 10/60; off = no limit)
  --session-idle-seconds N end an HTTP session with no request open for N s (default 1800)
  --http-max-sessions N    open HTTP sessions in all (default 1000; over it 503)
  --http-max-sessions-per-principal N  open HTTP sessions of one principal (default 100; over it 429)
  --http-request-timeout S a request's headers and body must arrive within S s, else 408 and the
                           connection is closed; answers and SSE streams may take longer (default 30)
  --http-max-connections N open TCP connections in all (default 1024; over it 503)
  --http-max-connections-per-address N  from one client address (IPv6: one /64) (default 128; over it 429)
  --tokens-file FILE       bearer tokens -> principals (MEDIAGEN_HTTP_TOKENS_FILE)
${AUTH_USAGE}  --state-dir DIR          job ledger, spend ledger, tokens (default: per-user state folder; with --sandbox
                           its sandbox sub-folder, so fake jobs never mix with real ones)
  --output-dir DIR         where downloads go (MEDIAGEN_OUTPUT_DIR); --download saves results by default
  --download-allow h,...   hosts downloads may reach even on loopback/private addresses, e.g. a private
                           CDN (MEDIAGEN_DOWNLOAD_ALLOW); by default those addresses are refused
  --download-max-outputs N outputs of one job downloaded at most (default 10; MEDIAGEN_DOWNLOAD_MAX_OUTPUTS)
${MEDIA_USAGE}  --prices FILE            price overlay: tool name -> price expression (MEDIAGEN_PRICES)
  --cap-session p=N,...    credit caps per provider for one session (MEDIAGEN_CAP_SESSION)
  --cap-day p=N,...        credit caps per provider per UTC day (MEDIAGEN_CAP_DAY)
  --confirm all            ask for consent before every paid call
  --confirm-above p=N,...  per-provider consent threshold in credits (MEDIAGEN_CONFIRM_ABOVE)
  --consent MODE           auto (approval view, else form, else token; the view's answer carries the
                           token too) | elicitation (form only) | token (token only) | app-or-form
                           (approval view or form only: no confirm_token anywhere the model sees)
                           (MEDIAGEN_CONSENT)
  --consent-off p,...      no consent prompt for these providers (caps still apply; logged loudly)
  --trust-observed-prices  once 3 consistent observations are kept, the highest observed price of an
                           unknown-price tool counts as its price for the consent threshold (still asked
                           at or above it; logged loudly; MEDIAGEN_TRUST_OBSERVED_PRICES)
  --unknown-price-reserve N  under a cap, an unknown price with no observation reserves N credits
                           instead of being refused (MEDIAGEN_UNKNOWN_PRICE_RESERVE)
  --wait-seconds N         default wait of one jobs_wait call (default 45, at most 55)
  --rate-limit p=N/S,...   override a provider's request limit (N per S seconds), or p=off
  --drain-seconds N        on shutdown, answer calls in flight for up to N s (default 10); paid requests
                           still unanswered then are left uncertain (MEDIAGEN_DRAIN_SECONDS)
  -h, --help               this text
  --version                print the version (with --verbose: Node and the SQLite driver too)

Environment only: DATABASE_URL (postgres://…: the shared PostgreSQL store instead of SQLite, for replicas),
  MEDIAGEN_RETENTION_HOURS (purge used/expired consent tokens and idempotency keys older than this; default 24),
  MEDIAGEN_WORKER_LEASE_MS (how long the background worker holds a job it polls, default 60000: a worker
  killed mid-poll loses its jobs to another process when this runs out),
  MEDIAGEN_STORE_START_SECONDS (at start, how long a store that cannot be reached yet is retried, with
  backoff, before exiting 1; default 30, 0 = not at all)
`;

export interface ParsedCli {
  help: boolean;
  version: boolean;
  verbose: boolean;
  config: Config;
}

function pick<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** Parse argv (without node and script) and env into a frozen Config. Throws StartupError. */
export function loadConfig(
  argv: readonly string[],
  processEnv: Readonly<Record<string, string | undefined>> = process.env,
): ParsedCli {
  // An empty variable counts as unset (desktop bundles pass "" for settings the user left blank).
  const env = Object.fromEntries(Object.entries(processEnv).filter(([, v]) => v !== undefined && v.trim() !== ''));
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new StartupError(`${(e as Error).message} (see --help)`);
  }
  const f = parsed.values;
  const command = f.list ? 'list' : (parsed.positionals[0] ?? undefined);
  if (command !== undefined && !(CONFIG_COMMANDS as readonly string[]).includes(command))
    throw new StartupError(unknownCommand(command));
  const maxWords = command === 'token' ? 3 : 1;
  if (parsed.positionals.length > maxWords)
    throw new StartupError(`unexpected argument "${parsed.positionals[maxWords]}" (see --help)`);
  const envCats = env.MEDIAGEN_CATALOGUES?.split(delimiter).filter(Boolean);
  const raw = {
    command,
    commandArgs: parsed.positionals.slice(1),
    transport: pick(f.transport, env.MEDIAGEN_TRANSPORT),
    sandbox: pick<boolean | string>(f.sandbox, env.MEDIAGEN_SANDBOX),
    catalogues: pick(f.catalogue, envCats),
    tools: pick(f.tools, env.MEDIAGEN_TOOLS),
    excludeTools: pick(f['exclude-tools'], env.MEDIAGEN_EXCLUDE_TOOLS),
    toolsets: pick(f.toolsets, env.MEDIAGEN_TOOLSETS),
    readOnly: pick<boolean | string>(f['read-only'], env.MEDIAGEN_READ_ONLY),
    httpTimeoutMs: pick(f['http-timeout-ms'], env.MEDIAGEN_HTTP_TIMEOUT_MS),
    logLevel: pick(f['log-level'], env.MEDIAGEN_LOG_LEVEL),
    sandboxPort: pick(command === 'sandbox' ? f.port : undefined, env.MEDIAGEN_SANDBOX_PORT),
    port: pick(command === 'sandbox' || command === 'ui' ? undefined : f.port, env.MEDIAGEN_PORT),
    uiPort: pick(command === 'ui' ? f.port : undefined, env.MEDIAGEN_UI_PORT),
    stateDir:
      pick(f['state-dir'], env.MEDIAGEN_STATE_DIR) ??
      defaultStateDir(env, undefined, undefined, isOn(pick<boolean | string>(f.sandbox, env.MEDIAGEN_SANDBOX))),
    outputDir: pick(f['output-dir'], env.MEDIAGEN_OUTPUT_DIR),
    download: pick<boolean | string>(f.download, env.MEDIAGEN_DOWNLOAD),
    downloadMaxMb: env.MEDIAGEN_DOWNLOAD_MAX_MB,
    downloadMaxOutputs: pick(f['download-max-outputs'], env.MEDIAGEN_DOWNLOAD_MAX_OUTPUTS),
    downloadAllow: pick(f['download-allow'], env.MEDIAGEN_DOWNLOAD_ALLOW),
    prices: pick(f.prices, env.MEDIAGEN_PRICES),
    capSession: pick(f['cap-session'], env.MEDIAGEN_CAP_SESSION),
    capDay: pick(f['cap-day'], env.MEDIAGEN_CAP_DAY),
    confirm: pick(f.confirm, env.MEDIAGEN_CONFIRM),
    confirmAbove: pick(f['confirm-above'], env.MEDIAGEN_CONFIRM_ABOVE),
    consent: pick(f.consent, env.MEDIAGEN_CONSENT),
    consentOff: pick(f['consent-off'], env.MEDIAGEN_CONSENT_OFF),
    trustObservedPrices: pick<boolean | string>(f['trust-observed-prices'], env.MEDIAGEN_TRUST_OBSERVED_PRICES),
    unknownPriceReserve: pick(f['unknown-price-reserve'], env.MEDIAGEN_UNKNOWN_PRICE_RESERVE),
    tokenTtlSeconds: env.MEDIAGEN_TOKEN_TTL_SECONDS,
    waitSeconds: pick(f['wait-seconds'], env.MEDIAGEN_WAIT_SECONDS),
    pollMs: env.MEDIAGEN_POLL_MS,
    rateLimit: pick(f['rate-limit'], env.MEDIAGEN_RATE_LIMIT),
    ...hostingRaw(f, env),
    ...mediaRaw(f, env),
    ...authRaw(f, env),
    ...opsRaw(f, env),
    drainSeconds: pick(f['drain-seconds'], env.MEDIAGEN_DRAIN_SECONDS),
    consentTimeoutSeconds: env.MEDIAGEN_CONSENT_TIMEOUT_SECONDS,
    storeStartSeconds: env.MEDIAGEN_STORE_START_SECONDS,
  };
  const result = ConfigSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue.path[0] ?? 'config');
    // Said for a person, not in the schema library's words.
    const message =
      issue.code === 'invalid_enum_value'
        ? `"${String(issue.received)}" is not one of ${issue.options.map(String).join(' | ')}`
        : issue.message;
    throw new StartupError(`invalid ${name}: ${message}`);
  }
  const config: Config = Object.freeze({ ...result.data, env: Object.freeze({ ...processEnv }) });
  return { help: Boolean(f.help), version: Boolean(f.version), verbose: Boolean(f.verbose), config };
}
