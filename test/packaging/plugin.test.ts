/**
 * The Claude Code plugin's server started as Claude Code starts it, from a plain clone (no dist/, no
 * node_modules/): the marketplace's plugin folder copied alone (Claude Code installs a copy of that folder),
 * then the command and args of its .claude-plugin/plugin.json with ${CLAUDE_PLUGIN_ROOT} and
 * ${user_config.*} filled in (no keys, sandbox on), under whatever Node runs this file (the plugin needs
 * node:sqlite, Node >= 22.13). CI clones the repository and runs this file under the npm-package Node 22
 * with MEDIAGEN_PLUGIN_DIR set to the clone; without it the file is skipped (a failure under CI, see
 * test/helpers/ci-input.ts).
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciInput } from '../helpers/ci-input.js';
import { UI_EXTENSION, VIEW_MIME } from '../../src/views/uris.js';
import { expectFreeCalls, expectGuardedJob, expectToolList } from '../helpers/smoke.js';
import { tempDir } from '../helpers/in-memory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const what = 'Claude Code plugin from a plain clone';
const dir = ciInput('MEDIAGEN_PLUGIN_DIR', what);

interface PluginManifest {
  name: string;
  mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }>;
  userConfig: Record<string, { type: string; default?: string | number | boolean; sensitive?: boolean }>;
}

interface Marketplace {
  plugins: { name: string; source: string; version?: string }[];
}

/** The plugin's server started as Claude Code starts it from `root` (an installed copy), sandbox on. */
async function startPlugin(root: string, data: string): Promise<{ manifest: PluginManifest; server: StdioServer }> {
  const manifest = JSON.parse(readFileSync(join(root, '.claude-plugin', 'plugin.json'), 'utf8')) as PluginManifest;
  const [decl] = Object.values(manifest.mcpServers);
  if (decl === undefined) throw new Error('plugin.json declares no MCP server');
  const user: Record<string, string> = { sandbox: 'true' };
  const sub = (v: string) =>
    v
      .replaceAll('${CLAUDE_PLUGIN_ROOT}', root)
      .replaceAll('${CLAUDE_PLUGIN_DATA}', data)
      .replace(/\$\{user_config\.(\w+)\}/g, (_, k: string) => user[k] ?? String(manifest.userConfig[k]?.default ?? ''));
  expect(decl.command).toBe('node');
  const [entry, ...args] = decl.args.map(sub);
  const env = Object.fromEntries(Object.entries(decl.env).map(([k, v]) => [k, sub(v)]));
  const server = await spawnStdio(
    env,
    args,
    { capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } } },
    entry,
  );
  return { manifest, server };
}

const sc = (r: CallToolResult) => (r.structuredContent ?? {}) as Record<string, unknown>;

/** A confirmed Imagen call whose sandbox result is a WebP (`sandbox:webp`), waited for. */
async function webpJob(server: StdioServer): Promise<CallToolResult> {
  const args = { prompt: 'a plugin lighthouse sandbox:webp', counts: '1' };
  let created = await server.call('mediaio_t2i_imagen_4', args);
  if (sc(created).code === 'CONFIRMATION_REQUIRED')
    created = await server.call('mediaio_t2i_imagen_4', { ...args, confirm_token: sc(created).confirm_token });
  return server.call('jobs_wait', { job_id: sc(created).job_id as string });
}

const clone = dir ?? '';
const marketplace = (): Marketplace =>
  JSON.parse(readFileSync(join(clone, '.claude-plugin', 'marketplace.json'), 'utf8')) as Marketplace;
/** The marketplace's plugin folder copied alone, as Claude Code installs it, into a fresh temporary folder. */
function installedCopy(): { tmp: string; root: string; data: string } {
  const tmp = tempDir();
  const root = join(tmp, 'installed-copy');
  cpSync(join(clone, marketplace().plugins[0]?.source ?? ''), root, { recursive: true });
  return { tmp, root, data: join(tmp, 'data') };
}

describe.skipIf(dir === undefined)(`${what} under Node ${process.versions.node}`, () => {
  const market = dir === undefined ? { plugins: [] } : marketplace();
  const source = join(clone, market.plugins[0]?.source ?? '');
  let tmp: string, root: string, data: string;
  let manifest: PluginManifest;
  let server: StdioServer;

  beforeAll(async () => {
    ({ tmp, root, data } = installedCopy());
    ({ manifest, server } = await startPlugin(root, data));
  });
  afterAll(async () => {
    if (process.env.MEDIAGEN_DEBUG_PLUGIN) process.stderr.write(server?.stderr() ?? '');
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is a plain clone: nothing built, nothing installed', () => {
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
  });

  it('the marketplace lists a plugin folder with no package.json (Claude Code would run npm ci in it)', () => {
    expect(market.plugins.map((p) => [p.name, p.source])).toEqual([['mediagen-mcp', './plugin']]);
    expect(existsSync(join(source, 'package.json'))).toBe(false);
  });

  it('names no version, so Claude Code versions each install by its git commit', () => {
    expect(market.plugins[0]?.version).toBeUndefined();
    expect((manifest as { version?: string }).version).toBeUndefined();
  });

  it('the bundle names every module by its path in the repository (none from outside it)', () => {
    for (const f of ['server/cli.js', 'server/previews/decode-worker.js']) {
      const keys = readFileSync(join(root, f), 'utf8').match(/"\.\.\/[^"]*\.[cm]?js"/g) ?? [];
      expect(keys, f).toEqual([]);
    }
  });

  it('declares every provider key (sensitive), PHAYA_BASE and sandbox as plugin options', () => {
    const [decl] = Object.values(manifest.mcpServers);
    for (const k of ['mediaio_api_key', 'phaya_api_key', 'ph0ny_api_key'])
      expect(manifest.userConfig[k]?.sensitive).toBe(true);
    expect(manifest.userConfig.sandbox?.type).toBe('boolean');
    expect(decl?.env).toMatchObject({
      PHAYA_BASE: '${user_config.phaya_base}',
      MEDIAGEN_SANDBOX: '${user_config.sandbox}',
    });
  });

  it('initializes in sandbox mode and lists every provider’s tools', async () => {
    expect(server.client.getServerVersion()?.name).toBe('mediagen-mcp');
    await expectToolList(server);
    expect(server.stderr()).toMatch(/sandbox mode/);
    expect(server.stderr()).toContain(join(data, 'state'));
  });

  it('ships the views: every ui:// resource is listed and readable', async () => {
    const { resources } = await server.client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      'ui://mediagen/gallery',
      'ui://mediagen/spend',
      'ui://mediagen/viewer',
    ]);
    for (const r of resources) {
      const read = await server.client.readResource({ uri: r.uri });
      expect(read.contents[0]).toMatchObject({ mimeType: VIEW_MIME });
    }
  });

  it('answers a free call, runs a guarded job, and makes a WebP thumbnail with the vendored codec', async () => {
    await expectFreeCalls(server);
    await expectGuardedJob(server);
    const done = await webpJob(server);
    expect(sc(done).status).toBe('succeeded');
    expect(done.content.find((c) => c.type === 'image')).toMatchObject({ type: 'image', mimeType: 'image/jpeg' });
    expect(server.stderr()).not.toMatch(/better-sqlite3|NODE_MODULE_VERSION|Cannot find module/);
  });
});

describe.skipIf(dir === undefined)('Claude Code plugin with its WebP codec missing', () => {
  let tmp: string;
  let server: StdioServer;
  beforeAll(async () => {
    const copy = installedCopy();
    tmp = copy.tmp;
    // A broken install, the codec's folder gone: the sandbox makes its sample WebP with this encoder at the
    // first sandbox:webp call, so both of its imports (glue and options) fail there.
    rmSync(join(copy.root, 'server', 'vendor', '@jsquash', 'webp'), { recursive: true });
    ({ server } = await startPlugin(copy.root, copy.data));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a sandbox:webp job still ends, without its preview, and the server keeps serving', async () => {
    const done = await webpJob(server);
    expect(sc(done).status, text(done)).toBe('succeeded');
    expect(text(done)).toMatch(/no preview \(the URL answered HTTP 500\)/);
    const models = await server.call('models', {});
    expect(models.isError, text(models)).toBeFalsy();
    await expectFreeCalls(server);
  });
});
