/**
 * Help for every command: `mediagen-mcp help [COMMAND]`, `mediagen-mcp COMMAND --help` (its own usage) and
 * `mediagen-mcp --help` (everything). An unknown command is named as such, with the nearest known one.
 */
import { USAGE } from '../config.js';
import { COMMAND_USAGE, splitCommandLine } from './argv.js';

/** Every command of the bin, in the order `--help` lists them, with its own usage. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  serve: `mediagen-mcp [serve] [options]
  Run the MCP server: over stdio (the default), or Streamable HTTP with --transport http.
  With no provider key set, only the free tools are served: try --sandbox (a local gateway, nothing spent).`,
  list: `mediagen-mcp list [--json] [options]   (or: mediagen-mcp --list)
  Print the tools of the catalogues with their provider and price line, and exit.
  --json: the tools as an MCP client is shown them (name, title, description), as JSON.`,
  describe: `mediagen-mcp describe TOOL [--json] [options]
  A tool's arguments (types, required, defaults), its price and its consent rule.`,
  quote: `mediagen-mcp quote TOOL key=value... [--json-args '{...}'] [--json] [options]
  Price a call without running it: credits, whether consent is needed, caps left, balance.
  Settings that loosen consent print a line "mediagen-mcp: CONSENT LOOSENED: ..." on stderr for each,
  whatever --log-level.`,
  call: `mediagen-mcp call TOOL key=value... [--json-args '{...}'] [--confirm-token T] [--wait] [--download DIR] [--json]
  Run a tool through the same guard and ledger as the server: consent (y/N on a terminal, else
  CONFIRMATION_REQUIRED and a --confirm-token to repeat the command with), caps, one provider request.
  --wait: wait for the job; --download DIR: wait, then save its outputs there.
  Settings that loosen consent are honoured, and print a line
  "mediagen-mcp: CONSENT LOOSENED: ..." on stderr for each, whatever --log-level.`,
  jobs: `mediagen-mcp jobs list [status=running ...] | jobs get ID | jobs wait ID [--download DIR] | jobs cancel ID
  The job ledger: list (newest first; filters status=, provider=, since=, until=, limit=), one status poll
  (get), wait for the end (wait), or cancel at the provider (cancel).`,
  spend: `mediagen-mcp spend [limit=N] [--json] [options]
  The spend report: credits spent and reserved per provider, caps left, the last N charges (default 20).`,
  sandbox: `mediagen-mcp sandbox [--port N]
  Run only the local sandbox gateway (no key, no spend); prints its URL and key; Ctrl-C to stop.`,
  token: `mediagen-mcp token add PRINCIPAL --tokens-file FILE
  Add a bearer token for PRINCIPAL to FILE (created if missing); prints the new token once on stdout
  (only its SHA-256 hash is stored).`,
  'export-prices': `mediagen-mcp export-prices [options]
  Print the observed prices as a --prices overlay (highest observed per tool).`,
  ui: `mediagen-mcp ui [--port N] [--sandbox] [options]
  Serve the gallery and the spend view on 127.0.0.1 for the person at the desk (same state folder or
  DATABASE_URL as serve); prints its URL with a per-run token on stderr.`,
  'import-openapi': `mediagen-mcp import-openapi SPEC.json --provider NAME > my.json
  Write a draft catalogue from an OpenAPI 3.0/3.1 document; fill in its placeholders, then use it with
  --catalogue my.json.`,
  help: `mediagen-mcp help [COMMAND]
  This help, or one command's.`,
};

export const COMMAND_NAMES = Object.keys(COMMAND_HELP);

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length]!;
}

/** `unknown command "tokens" (did you mean "token"?); the commands: …` */
export function unknownCommand(word: string): string {
  const near = COMMAND_NAMES.map((n) => [n, distance(word, n)] as const).sort((x, y) => x[1] - y[1])[0];
  const mean = near && near[1] <= 2 ? ` (did you mean "${near[0]}"?)` : '';
  return `unknown command "${word}"${mean}; the commands are ${COMMAND_NAMES.join(', ')} (see --help)`;
}

export interface HelpAnswer {
  /** For stdout. */
  text: string;
  /** For stderr (an unknown command). */
  error?: string;
  code: number;
}

const full = (): string => USAGE + COMMAND_USAGE;

function one(name: string): string {
  return `Usage: ${COMMAND_HELP[name]}\n\nEvery option: mediagen-mcp --help\n`;
}

/** The command's words and whether --help / -h was given as an option (not after `--`, not as a value). */
function parsed(argv: readonly string[]): { words: string[]; asked: boolean } {
  const isHelp = (a: string): boolean => a === '--help' || a === '-h';
  try {
    const cl = splitCommandLine(argv);
    return { words: cl.words, asked: cl.configArgv.some(isHelp) };
  } catch {
    // A command line that does not parse still gets its help: the words before `--`, options skipped.
    const cut = argv.indexOf('--');
    const head = cut < 0 ? argv : argv.slice(0, cut);
    return { words: head.filter((a) => !a.startsWith('-')), asked: head.some(isHelp) };
  }
}

/** The help this command line asks for, or undefined when it asks for none. */
export function helpFor(argv: readonly string[]): HelpAnswer | undefined {
  const { words, asked } = parsed(argv);
  const [first, second] = words;
  if (first === 'help') {
    if (asked) return { text: one('help'), code: 0 };
    if (second === undefined) return { text: full(), code: 0 };
    if (Object.hasOwn(COMMAND_HELP, second)) return { text: one(second), code: 0 };
    return { text: full(), error: unknownCommand(second), code: 2 };
  }
  if (!asked) return undefined;
  if (first === undefined) return { text: full(), code: 0 };
  if (Object.hasOwn(COMMAND_HELP, first)) return { text: one(first), code: 0 };
  return { text: full(), error: unknownCommand(first), code: 2 };
}
