/**
 * Configuration: one zod schema, parsed once from flags and the environment (flags beat env beat
 * defaults), then frozen. The ONLY module that reads process.env.
 */
import { delimiter } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { StartupError } from './errors.js';

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

export const ConfigSchema = z
  .object({
    command: z.enum(['serve', 'list', 'sandbox']).default('serve'),
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
  })
  .strict();

export type Config = Readonly<z.infer<typeof ConfigSchema>> & {
  /** Snapshot of the environment: provider keys and base URLs are looked up here by catalogue env names. */
  readonly env: Readonly<Record<string, string | undefined>>;
};

const FLAGS = {
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
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export const USAGE = `Usage: mediagen-mcp [command] [options]

Commands:
  serve (default)          run the MCP server (stdio)
  sandbox                  run only the local sandbox gateway (no key, no spend)

Options:
  --list                   print every tool (name, provider, price line) and exit
  --sandbox                point every provider at a built-in local gateway with a dummy key
  --catalogue FILE         add a catalogue file (repeatable; env MEDIAGEN_CATALOGUES, ${delimiter}-separated)
  --tools a,b              only these tools (also enables operations that are off by default)
  --exclude-tools a,b      never these tools
  --toolsets a,b           only tools of these providers or tags (image, video, account, ...)
  --read-only              only read-only tools
  --http-timeout-ms N      overall deadline of one provider request (default 30000)
  --log-level LEVEL        debug | info | warn | error (stderr only)
  --port N                 sandbox port for the sandbox command (default: a free port)
  -h, --help               this text
  --version                print the version
`;

export interface ParsedCli {
  help: boolean;
  version: boolean;
  config: Config;
}

function pick<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** Parse argv (without node and script) and env into a frozen Config. Throws StartupError. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ParsedCli {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new StartupError(`${(e as Error).message} (see --help)`);
  }
  const f = parsed.values;
  if (parsed.positionals.length > 1)
    throw new StartupError(`unexpected argument "${parsed.positionals[1]}" (see --help)`);
  const command = f.list ? 'list' : (parsed.positionals[0] ?? undefined);
  const envCats = env.MEDIAGEN_CATALOGUES?.split(delimiter).filter(Boolean);
  const raw = {
    command,
    transport: pick(f.transport, env.MEDIAGEN_TRANSPORT),
    sandbox: pick<boolean | string>(f.sandbox, env.MEDIAGEN_SANDBOX),
    catalogues: pick(f.catalogue, envCats),
    tools: pick(f.tools, env.MEDIAGEN_TOOLS),
    excludeTools: pick(f['exclude-tools'], env.MEDIAGEN_EXCLUDE_TOOLS),
    toolsets: pick(f.toolsets, env.MEDIAGEN_TOOLSETS),
    readOnly: pick<boolean | string>(f['read-only'], env.MEDIAGEN_READ_ONLY),
    httpTimeoutMs: pick(f['http-timeout-ms'], env.MEDIAGEN_HTTP_TIMEOUT_MS),
    logLevel: pick(f['log-level'], env.MEDIAGEN_LOG_LEVEL),
    sandboxPort: pick(f.port, env.MEDIAGEN_SANDBOX_PORT),
  };
  const result = ConfigSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue.path[0] ?? 'config');
    throw new StartupError(`invalid ${name}: ${issue.message}`);
  }
  const config: Config = Object.freeze({ ...result.data, env: Object.freeze({ ...env }) });
  return { help: Boolean(f.help), version: Boolean(f.version), config };
}
