/**
 * A bounded, seeded fuzz run over every tool: random and hostile arguments through a real stdio client
 * against the sandbox. Invariants: invalid input (BAD_ARGUMENTS) makes no provider request, nothing
 * answers INTERNAL or a JSON-RPC error, stdout carries only MCP messages, and no key appears anywhere.
 *
 * Then a seeded pass over hostile catalogues (ours and Media.io's format) and OpenAPI specs
 * (test/helpers/hostile-documents.ts):
 * each loads into a tool list a real SDK client can list, or fails with one line naming the file and a
 * JSON pointer; import-openapi (the real CLI) writes a draft or one error line; never a crash, a hang
 * or a stack overflow.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogueFile, loadCatalogues, type LoadedCatalogue } from '../../src/catalogue/load.js';
import { importOpenapiCommand, PLACEHOLDER } from '../../src/catalogue/openapi.js';
import { StartupError } from '../../src/errors.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { buildTools } from '../../src/tools/build.js';
import { minimalArgs } from '../helpers/args.js';
import { hostileCatalogue, hostileMediaio, hostileSpec, rng } from '../helpers/hostile-documents.js';
import { tempDir } from '../helpers/in-memory.js';
import { sentBesidesPolls } from '../helpers/money.js';
import { CLI, MEDIAIO_FILE, ROOT } from '../helpers/paths.js';
import { spawnStdio, type StdioServer } from '../helpers/stdio.js';

const SECRET = 'fuzz-secret-key-0123456789';
const SEED = 20261128;
const PER_TOOL = 20;

const HOSTILE: unknown[] = [
  '',
  ' ',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  '../../../etc/passwd',
  '\u0000\u202e\ud83d\ude00',
  'x'.repeat(70_000),
  -1,
  0,
  1e308,
  -0.5,
  Number.MAX_SAFE_INTEGER,
  true,
  null,
  [],
  [null],
  {},
  { $ref: '#' },
  { __proto__: { polluted: true } },
  ['https://example.com/a.png', 'gopher://x'],
];

let sandbox: Sandbox;
let server: StdioServer;
const clientErrors: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ key: SECRET });
  server = await spawnStdio({
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: SECRET,
    PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
    PHAYA_API_KEY: SECRET,
    PH0NY_BASE_URL: sandbox.baseUrl('ph0ny', 'https://persona-labsvoice-api-production.up.railway.app/v1'),
    PH0NY_API_KEY: SECRET,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_HTTP_TIMEOUT_MS: '5000',
  });
  server.client.onerror = (e) => void clientErrors.push(String(e));
});
afterAll(async () => {
  await server?.close();
  await sandbox?.close();
});

describe('fuzzing every tool', () => {
  it(`holds its invariants over ${PER_TOOL} seeded variants per tool (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const { tools } = await server.client.listTools();
    let calls = 0;
    for (const tool of tools) {
      const base = minimalArgs(tool.inputSchema as never);
      const names = [...Object.keys(tool.inputSchema.properties ?? {}), 'unknown_field'];
      for (let i = 0; i < PER_TOOL; i++) {
        const args: Record<string, unknown> = i === 0 ? {} : { ...base };
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) args[pick(names)] = pick(HOSTILE);
        const before = sentBesidesPolls(sandbox);
        const r = await server.client.callTool({ name: tool.name, arguments: args });
        calls++;
        const sc = (r.structuredContent ?? {}) as { code?: string };
        const where = `${tool.name} ${JSON.stringify(args).slice(0, 300)}`;
        expect(sc.code, where).not.toBe('INTERNAL');
        if (sc.code === 'BAD_ARGUMENTS') expect(sentBesidesPolls(sandbox), where).toBe(before);
        expect(JSON.stringify(r), where).not.toContain(SECRET);
      }
    }
    expect(tools.length).toBeGreaterThan(50);
    expect(calls).toBe(tools.length * PER_TOOL);
    expect(clientErrors).toEqual([]); // every stdout line parsed as an MCP message
    expect(server.stderr()).not.toContain(SECRET);
  });
});

const DOC_SEED = 20261201;
const CATALOGUES = 40;
const SPECS = 30;
const MEDIAIO_VARIANTS = 12;
/** Failing catalogues also started as a real server, to see the same one line from the process. */
const STARTED = 4;
/** Every SPAWNED_EVERY-th spec also goes through the real CLI process. */
const SPAWNED_EVERY = 5;

/** `import-openapi` as the CLI runs it (importOpenapiCommand, its exit code and one stderr line), in this process. */
function importInProcess(spec: string, provider: string): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  try {
    const status = importOpenapiCommand([spec, '--provider', provider], (t) => (stdout += t));
    return { status, stdout, stderr: '' };
  } catch (e) {
    const where = `${spec}: ${e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 300)}` : String(e)}`;
    expect(e, where).toBeInstanceOf(StartupError);
    return { status: 2, stdout: '', stderr: `mediagen-mcp: ${(e as Error).message}\n` };
  }
}

/** A refusal: one line "<file>: /<pointer>: <message>", a StartupError, never a RangeError or TypeError. */
function refusal(fn: () => unknown, file: string): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    const where = `${file}: ${e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 300)}` : String(e)}`;
    expect(e, where).toBeInstanceOf(StartupError);
    const msg = (e as Error).message;
    expect(msg.startsWith(`${file}: /`), where).toBe(true);
    expect(msg, where).not.toMatch(/call stack/i);
    return msg;
  }
}

/** The real CLI with a hang bound: its exit status, never a signal, a timeout or a "fatal" crash. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir(), ...env },
    input: '',
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const where = `${args.join(' ').slice(0, 200)}: ${r.stderr.slice(0, 300)}`;
  expect(r.error, where).toBeUndefined();
  expect(r.signal, where).toBeNull();
  expect(r.stderr, where).not.toMatch(/fatal|call stack|at .*\.js:\d+/);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Fill a draft the way an operator would: a loopback base URL, a price each, no job blocks or FILL IN hints. */
function filled(draft: Record<string, unknown>): Record<string, unknown> {
  type Op = Record<string, unknown> & { params?: Record<string, unknown>[] };
  (draft.baseUrl as Record<string, unknown>).default = 'http://127.0.0.1:9/api';
  const clean = (p: Record<string, unknown>) => {
    for (const k of ['description', 'default']) if (String(p[k] ?? '').includes(PLACEHOLDER)) delete p[k];
    for (const f of (p.properties as Record<string, unknown>[] | undefined) ?? []) clean(f);
  };
  draft.operations = (draft.operations as Op[])
    .filter((o) => !String(o.disabled ?? '').includes(PLACEHOLDER))
    .map((o) => {
      for (const p of o.params ?? []) clean(p);
      const op: Op = { ...o, price: { credits: 1 } };
      delete op.job;
      return op;
    });
  return draft;
}

describe('fuzzing catalogues and OpenAPI specs', () => {
  it(`loads or refuses ${CATALOGUES} hostile catalogues and ${SPECS} hostile specs with a pointer, never a crash (seed ${DOC_SEED})`, async () => {
    const random = rng(DOC_SEED);
    const dir = tempDir();
    const served: LoadedCatalogue[] = [];
    /** Refused files with the key variable that makes the server validate (not skip) them. */
    const refused: { file: string; keyEnv: string }[] = [];
    const keys: Record<string, string> = {};
    const providers = new Set<string>();
    const serve = (cat: LoadedCatalogue) => {
      if (providers.has(cat.provider)) return;
      providers.add(cat.provider);
      served.push(cat);
      keys[cat.auth.env] = 'fuzz-key-0123456789';
    };

    for (let i = 0; i < CATALOGUES; i++) {
      const { text } = hostileCatalogue(random, i);
      const file = join(dir, `catalogue-${i}.json`);
      writeFileSync(file, text);
      let cat: LoadedCatalogue | undefined;
      const msg = refusal(() => (cat = loadCatalogueFile(file)), file);
      if (msg) refused.push({ file, keyEnv: `FZ${i}_KEY` });
      else if (cat) {
        // What is loaded builds and serialises (tools/list) without throwing.
        expect(() => JSON.stringify(buildTools([cat!]).map((t) => t.inputSchema)), file).not.toThrow();
        serve(cat);
      }
    }
    // Media.io's upstream format, mutated: it loads (provider mediaio, not served again here) or is refused.
    const upstream = JSON.parse(readFileSync(MEDIAIO_FILE, 'utf8')) as Record<string, unknown>[];
    for (let i = 0; i < MEDIAIO_VARIANTS; i++) {
      const file = join(dir, `mediaio-${i}.json`);
      writeFileSync(file, hostileMediaio(random, upstream));
      let cat: LoadedCatalogue | undefined;
      if (!refusal(() => (cat = loadCatalogueFile(file)), file) && cat)
        expect(() => JSON.stringify(buildTools([cat!]).map((t) => t.inputSchema)), file).not.toThrow();
    }

    let drafts = 0;
    for (let i = 0; i < SPECS; i++) {
      const spec = join(dir, `spec-${i}.json`);
      writeFileSync(spec, hostileSpec(random));
      const provider = `sp${i}`;
      // Every spec through the command's own code; a sample through the real process, which must agree.
      const r = importInProcess(spec, provider);
      if (i % SPAWNED_EVERY === 0) expect(cli(['import-openapi', spec, '--provider', provider]), spec).toEqual(r);
      if (r.status === 2) {
        expect(r.stdout, spec).toBe('');
        expect(r.stderr.trim().split('\n'), spec).toHaveLength(1);
        expect(r.stderr, spec).toMatch(new RegExp(`^mediagen-mcp: ${spec}: /\\S*: `));
        continue;
      }
      expect(r.status, `${spec}: ${r.stderr.slice(0, 300)}`).toBe(0);
      drafts++;
      const draft = JSON.parse(r.stdout) as Record<string, unknown>;
      // A draft is never served as it is: the base URL and every price are the operator's to type.
      const file = join(dir, `draft-${i}.json`);
      writeFileSync(file, r.stdout);
      expect(
        refusal(() => loadCatalogueFile(file), file),
        file,
      ).toMatch(/: placeholder left by import-openapi/);
      const done = filled(draft);
      if (!(done.operations as unknown[]).length) continue;
      writeFileSync(file, JSON.stringify(done));
      let cat: LoadedCatalogue | undefined;
      if (refusal(() => (cat = loadCatalogueFile(file)), file)) refused.push({ file, keyEnv: `SP${i}_API_KEY` });
      else if (cat) serve(cat);
    }
    // A sample of the refused files through the real server: the same one line, exit code 2.
    for (const { file, keyEnv } of refused.filter((_, k) => k % Math.ceil(refused.length / STARTED) === 0)) {
      const r = cli(['--catalogue', file], { [keyEnv]: 'fuzz-key-0123456789', MEDIAGEN_LOG_LEVEL: 'error' });
      expect(r.status, `${file}: ${r.stderr.slice(0, 300)}`).toBe(2);
      expect(r.stderr, file).toMatch(new RegExp(`^mediagen-mcp: ${file}: /\\S*: [^\\n]+\\n$`));
    }
    // Everything that loaded, together in one real server, listed by a real SDK client.
    const files = served.map((c) => c.file);
    const expected = buildTools(loadCatalogues(files))
      .filter((t) => !t.op.disabled)
      .map((t) => t.name);
    const server = await spawnStdio(
      keys,
      files.flatMap((f) => ['--catalogue', f]),
    );
    try {
      const { tools } = await server.client.listTools();
      const names = tools.map((t) => t.name);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining(expected));
      for (const t of tools) expect(t.inputSchema.type, t.name).toBe('object');
    } finally {
      await server.close();
    }
    // The pass exercised both outcomes on both kinds of document.
    expect(refused.length).toBeGreaterThan(5);
    expect(served.length).toBeGreaterThan(5);
    expect(drafts).toBeGreaterThan(5);
  }, 240_000);
});
