/**
 * The command line's own words and flags, split from the server's configuration flags (which go to
 * loadConfig unchanged, so `--sandbox`, `--toolsets`, `--state-dir`… mean exactly what they mean for `serve`).
 * Tool arguments are `key=value` words typed from the tool's listed JSON Schema; the server's validator
 * stays the only judge of them.
 */
import { FLAGS } from '../config.js';
import type { JsonSchema } from '../tools/build.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, consent: 3, budget: 4, unread: 5, interrupted: 130 } as const;

export class UsageError extends Error {}

export interface CommandLine {
  words: string[];
  json: boolean;
  wait: boolean;
  jsonArgs?: string;
  confirmToken?: string;
  /** `--download DIR`: save the outputs there. */
  downloadDir?: string;
  /** Flags for loadConfig. */
  configArgv: string[];
}

const OWN_BOOL = new Set(['json', 'wait']);
const OWN_VALUE = new Set(['json-args', 'confirm-token', 'download']);

export function splitCommandLine(argv: readonly string[]): CommandLine {
  const out: CommandLine = { words: [], json: false, wait: false, configArgv: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.words.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (arg.startsWith('--') ? 2 : 1));
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      return next;
    };
    if (OWN_BOOL.has(name)) {
      if (name === 'json') out.json = true;
      else out.wait = true;
    } else if (OWN_VALUE.has(name)) {
      const v = value();
      if (name === 'json-args') out.jsonArgs = v;
      else if (name === 'confirm-token') out.confirmToken = v;
      else out.downloadDir = v;
    } else if (name in FLAGS || name === 'h') {
      const spec = FLAGS[(name === 'h' ? 'help' : name) as keyof typeof FLAGS];
      out.configArgv.push(arg);
      if (spec.type === 'string' && inline === undefined) out.configArgv.push(value());
    } else {
      throw new UsageError(`unknown option ${arg} (see --help)`);
    }
  }
  if (out.downloadDir !== undefined) out.configArgv.push('--output-dir', out.downloadDir);
  return out;
}

type Prop = { type?: string | string[]; items?: Prop; enum?: unknown[] };

function typeOf(p: Prop | undefined): string | undefined {
  if (!p) return undefined;
  return Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type;
}

/** One word typed by its schema; a word that does not fit is passed as written, for the validator to name. */
function typed(raw: string, p: Prop | undefined): unknown {
  if (p?.enum && !p.enum.includes(raw)) {
    // `duration=8s` for an enum of seconds ("4", "8", "12" or 4, 8, 12)
    const bare = raw.trim().replace(/(s|sec|seconds)$/, '');
    const hit = p.enum.find((e) => String(e) === bare);
    if (hit !== undefined) return hit;
  }
  const t = typeOf(p);
  if (t === 'integer' || t === 'number') {
    const m = /^(-?\d+(?:\.\d+)?)(s|sec|seconds)?$/.exec(raw.trim());
    return m ? Number(m[1]) : raw;
  }
  if (t === 'boolean') {
    if (/^(true|yes|1|on)$/i.test(raw)) return true;
    if (/^(false|no|0|off)$/i.test(raw)) return false;
    return raw;
  }
  if (t === 'object' || (t === 'array' && raw.trim().startsWith('['))) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new UsageError(`"${raw}" is not valid JSON`);
    }
  }
  return raw;
}

/** `key=value…` (+ `--json-args`) -> tool arguments, typed from the tool's input schema. */
export function toolArguments(
  words: readonly string[],
  schema: JsonSchema,
  jsonArgs?: string,
): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  if (jsonArgs !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(jsonArgs);
    } catch {
      throw new UsageError('--json-args is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new UsageError('--json-args must be a JSON object');
    base = parsed as Record<string, unknown>;
  }
  const props = ((schema as { properties?: Record<string, Prop> }).properties ?? {}) as Record<string, Prop>;
  const out: Record<string, unknown> = { ...base };
  const seen = new Set<string>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected key=value, got "${word}"`);
    const key = word.slice(0, eq);
    const raw = word.slice(eq + 1);
    const p = Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined;
    if (typeOf(p) === 'array') {
      const v = typed(raw, p);
      const items = Array.isArray(v) ? v : [typed(raw, p?.items)];
      const prev = seen.has(key) ? out[key] : undefined;
      out[key] = Array.isArray(prev) ? [...(prev as unknown[]), ...items] : items;
    } else {
      out[key] = typed(raw, p);
    }
    seen.add(key);
  }
  return out;
}

export const CLI_COMMANDS = new Set(['describe', 'quote', 'call', 'jobs', 'spend']);

export const COMMAND_USAGE = `
Command line (the same tools, guard and ledger as the server):
  describe TOOL                        schema, price and consent rule of a tool
  quote TOOL key=value...              price a call without running it
  call TOOL key=value... [--json-args '{...}'] [--confirm-token T] [--wait] [--download DIR]
  jobs list [status=running ...] | jobs get ID | jobs wait ID [--download DIR] | jobs cancel ID
  spend                                spend report (reservations, caps)
  --json                               print the structured result
  Consent on a terminal: y/N, read only after the price is shown (keys typed before it are discarded).
  Settings that loosen consent (--consent-off; --confirm-above above the catalogue's; --prices other
  than the catalogue's at any arguments, or for an unknown price; --trust-observed-prices; their
  MEDIAGEN_* variables; any paid tool of a --catalogue of one's own) are honoured, and quote and call
  print a line "mediagen-mcp: CONSENT LOOSENED: ..." on stderr for each, whatever --log-level.
  SIGTERM, SIGHUP: a request in flight is answered and recorded first (up to --drain-seconds), then exit.
  Exit codes: 0 ok, 1 provider, job or store failure (STORE_UNAVAILABLE: the state folder's database or
  DATABASE_URL cannot be used right now), 2 bad usage or arguments, 3 consent needed or declined,
  4 budget (cap) exceeded, 5 job created but the store stayed unavailable while waiting (resume with
  jobs wait ID), 130 stopped waiting (Ctrl-C; the job keeps running), 143 SIGTERM, 129 SIGHUP.
`;

/** Is this a command line for runCommand (rather than serve, sandbox, token or the plain list)? */
export function isCommandLine(argv: readonly string[]): boolean {
  try {
    const cl = splitCommandLine(argv);
    const word = cl.words[0] ?? '';
    return CLI_COMMANDS.has(word) || (word === 'list' && cl.json);
  } catch {
    return argv.some((a) => CLI_COMMANDS.has(a));
  }
}
