/**
 * The README's Quick starts, checked as written: every JSON snippet parses and configures Phaya with its base
 * URL; every from-source form (a JSON `node …/dist/cli.js` entry, a `claude mcp add … -- node …` line) is
 * started as written plus `--sandbox`, with the clone's path put in for /path/to/mediagen-mcp, and a real SDK
 * Client lists its tools over stdio. The clone is this repository (its dist/ from npm run build) unless
 * MEDIAGEN_QUICKSTART_CLONE names a fresh clone on which CI ran the README's `git clone … && npm install`.
 * With MEDIAGEN_CLAUDE_BIN (Claude Code from npm), the README's `claude …` lines are run by Claude Code itself
 * with HOME in a temporary folder, and `claude mcp list` must show each server connected (the plugin's
 * marketplace is MEDIAGEN_PLUGIN_DIR, a plain clone, when set). Without it that part is skipped (a failure
 * under CI, see test/helpers/ci-input.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ciInput } from '../helpers/ci-input.js';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio } from '../helpers/stdio.js';

const clone = (process.env.MEDIAGEN_QUICKSTART_CLONE ?? ROOT).replace(/\/+$/, '');
const byClaude = 'README Quick starts, run by Claude Code';
/** The marketplace the plugin lines add: a plain clone (CI: no dist/, no node_modules/), else the clone above. */
const marketplace = process.env.MEDIAGEN_PLUGIN_DIR ?? clone;
const PLACEHOLDER = '/path/to/mediagen-mcp';

interface Snippet {
  section: string;
  lang: string;
  body: string;
}

/** The fenced blocks of README's "## Quick starts", each with the ### subsection it sits in. */
function quickStartSnippets(): Snippet[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quick starts\n');
  if (start < 0) throw new Error('README.md has no "## Quick starts" section');
  const end = readme.indexOf('\n## ', start + 5);
  const out: Snippet[] = [];
  let section = 'intro';
  const lines = readme.slice(start, end).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('### ')) section = line.slice(4).trim();
    const fence = /^```(\w+)$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] ?? '');
    out.push({ section, lang: fence[1] ?? '', body: body.join('\n') });
  }
  return out;
}

interface ServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** Words of one shell line (no quoting is used in these snippets; a quote would fail the test). */
function words(line: string): string[] {
  const code = line.replace(/\s+#.*$/, '').trim();
  expect(code, 'quick-start shell lines use no quoting').not.toMatch(/["'\\`$]/);
  return code.split(/\s+/);
}

/** `claude mcp add NAME --env K=V … -- COMMAND ARGS…` taken apart. */
function mcpAdd(line: string): { name: string; env: Record<string, string>; command: string[] } {
  const w = words(line);
  const dash = w.indexOf('--');
  const env: Record<string, string> = {};
  for (let i = 3; i < dash; i++) {
    if (w[i] === '--env') {
      const [k = '', ...v] = (w[++i] ?? '').split('=');
      env[k] = v.join('=');
    }
  }
  return { name: w[3] ?? '', env, command: w.slice(dash + 1) };
}

const fromSource = (argv: string[]) => argv.map((a) => a.replaceAll(PLACEHOLDER, clone));
/** ${VAR} and ${VAR:-default} as Claude Code expands them, from an environment with none of them set. */
const expand = (v: string) => v.replace(/\$\{\w+(?::-([^}]*))?\}/g, (_, d: string | undefined) => d ?? '');

async function expectServes(argv: string[], env: Record<string, string>): Promise<void> {
  const [command, entry, ...args] = fromSource(argv);
  expect(command).toBe('node');
  const server = await spawnStdio(env, [...args, '--sandbox'], {}, entry);
  try {
    const names = (await server.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['quote', 'models', 'mediaio_t2i_imagen_4', 'phaya_veo31_video']));
  } finally {
    await server.close();
  }
}

const snippets = quickStartSnippets();
const json = snippets.filter((s) => s.lang === 'json');
const shell = snippets.filter((s) => s.lang === 'sh');
const ours = ['intro', 'Claude Desktop', 'Claude Code', 'Windows'];

describe('README Quick starts', () => {
  it('finds the Quick starts: their fenced blocks, JSON and shell', () => {
    expect(json.length).toBeGreaterThanOrEqual(5);
    expect(shell.length).toBeGreaterThanOrEqual(3);
  });

  it('has the sections this file checks, each with a from-source form', () => {
    for (const section of ours.slice(1)) {
      const body = snippets.filter((s) => s.section === section).map((s) => s.body);
      expect(body.join('\n'), section).toMatch(/mediagen-mcp[\\/]+dist[\\/]+cli\.js/);
    }
    expect(shell.find((s) => s.section === 'intro')?.body).toMatch(/^git clone .+\ncd mediagen-mcp && npm install/);
  });

  it('every JSON snippet parses, and each one that sets a Phaya key sets PHAYA_BASE', () => {
    expect(json.length).toBeGreaterThanOrEqual(5);
    for (const s of json) {
      const servers = (JSON.parse(s.body) as { mcpServers: Record<string, ServerEntry> }).mcpServers;
      for (const entry of Object.values(servers)) {
        expect(typeof entry.command).toBe('string');
        expect(Array.isArray(entry.args)).toBe(true);
        if (entry.env?.PHAYA_API_KEY !== undefined) expect(Object.keys(entry.env), s.section).toContain('PHAYA_BASE');
      }
    }
  });

  it('every shell line that sets a Phaya key sets PHAYA_BASE', () => {
    for (const line of shell.flatMap((s) => s.body.split('\n')).filter((l) => l.includes('PHAYA_API_KEY'))) {
      expect(line).toContain('PHAYA_BASE=');
    }
  });

  const sourceJson = json
    .filter((s) => ours.includes(s.section))
    .flatMap((s) =>
      Object.entries((JSON.parse(s.body) as { mcpServers: Record<string, ServerEntry> }).mcpServers).map(
        ([name, e]) => ({ s, name, e }),
      ),
    )
    .filter(({ e }) => e.args.some((a) => a.startsWith(PLACEHOLDER)));
  it.each(sourceJson.map(({ s, name, e }) => [`${s.section}: ${name}`, e] as const))(
    'JSON from source (%s) starts as written and lists its tools',
    async (_, e) => {
      const env = Object.fromEntries(Object.entries(e.env ?? {}).map(([k, v]) => [k, expand(v)]));
      await expectServes([e.command, ...e.args], env);
    },
  );

  const addLines = shell
    .flatMap((s) => s.body.split('\n'))
    .filter((l) => l.startsWith('claude mcp add ') && l.includes(PLACEHOLDER));
  it('finds the from-source forms it starts (a JSON entry per section, a claude mcp add line)', () => {
    expect(new Set(sourceJson.map(({ s }) => s.section))).toEqual(new Set(['Claude Desktop', 'Claude Code']));
    expect(addLines.length).toBeGreaterThanOrEqual(1);
  });
  it.each(addLines)('claude mcp add from source starts as written: %s', async (line) => {
    const { env, command } = mcpAdd(line);
    await expectServes(command, env);
  });
});

const claude = ciInput('MEDIAGEN_CLAUDE_BIN', byClaude);
describe.skipIf(claude === undefined)(byClaude, () => {
  const bin = claude ?? '';
  const home = tempDir();
  mkdirSync(home, { recursive: true });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const run = (args: string[], extra: Record<string, string> = {}) =>
    execFileSync(bin, args, {
      cwd: home,
      encoding: 'utf8',
      timeout: 180_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        ...extra,
      },
    });
  const lines = shell.filter((s) => s.section === 'Claude Code').flatMap((s) => s.body.split('\n'));

  it('claude mcp add (from source, as written) → claude mcp list shows it connected', () => {
    const line = lines.find((l) => l.startsWith('claude mcp add ') && l.includes(PLACEHOLDER)) ?? '';
    run(fromSource(words(line)).slice(1));
    expect(run(['mcp', 'list'])).toMatch(/^mediagen: node \S+dist\/cli\.js.* - ✔ Connected$/m);
    run(['mcp', 'remove', 'mediagen']);
  }, 120_000);

  it('the plugin lines (marketplace add, install --config sandbox=true) → the plugin server connected, in sandbox mode', () => {
    // Claude Code's debug log of the install says how it versioned the copy and whether it installed
    // dependencies in it.
    const debugLog = join(home, 'plugin-install-debug.txt');
    for (const line of lines.filter((l) => l.startsWith('claude plugin '))) {
      run(words(line.replace('<repository-url-or-clone-path>', marketplace)).slice(1), {
        DEBUG: '1',
        CLAUDE_CODE_DEBUG_LOGS_DIR: debugLog,
      });
    }
    expect(run(['mcp', 'list'])).toMatch(/^plugin:mediagen-mcp:mediagen: node \S+\/server\/cli\.js - ✔ Connected$/m);
    // The install ran no npm (the installed copy has no package.json: no node_modules/, no "Installing plugin
    // dependencies" in the log), and versioned the copy by the marketplace's git commit.
    const log = readFileSync(debugLog, 'utf8');
    expect(log).toMatch(/Using (pre-resolved )?git SHA for mediagen-mcp@mediagen-mcp: [0-9a-f]{12}/);
    expect(log).not.toContain('Installing plugin dependencies');
    const installed = JSON.parse(readFileSync(join(home, '.claude', 'plugins', 'installed_plugins.json'), 'utf8')) as {
      plugins: Record<string, { installPath: string; version: string }[]>;
    };
    const [copy] = installed.plugins['mediagen-mcp@mediagen-mcp'] ?? [];
    expect(copy?.version).toMatch(/^[0-9a-f]{12}$/);
    expect(existsSync(join(copy?.installPath ?? '', 'server', 'cli.js'))).toBe(true);
    expect(existsSync(join(copy?.installPath ?? '', 'package.json'))).toBe(false);
    expect(existsSync(join(copy?.installPath ?? '', 'node_modules'))).toBe(false);
    // Claude Code keeps each server's stderr in its MCP logs: the server said it runs on the sandbox gateway.
    const logs = join(home, '.cache', 'claude-cli-nodejs');
    const files = readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.includes('mcp-logs-plugin-mediagen-mcp-mediagen'),
    );
    const text = files
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('');
    expect(text).toMatch(/sandbox mode: every provider points at http:\/\/127\.0\.0\.1/);
  }, 180_000);
});
