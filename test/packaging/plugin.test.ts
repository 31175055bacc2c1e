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
import { spawnStdio, type StdioServer } from '../helpers/stdio.js';

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

describe.skipIf(dir === undefined)(`${what} under Node ${process.versions.node}`, () => {
  const clone = dir ?? '';
  const marketplace = JSON.parse(
    readFileSync(join(clone, '.claude-plugin', 'marketplace.json'), 'utf8'),
  ) as Marketplace;
  const source = join(clone, marketplace.plugins[0]?.source ?? '');
  const tmp = tempDir();
  const root = join(tmp, 'installed-copy');
  const data = join(tmp, 'data');
  let manifest: PluginManifest;
  let server: StdioServer;

  beforeAll(async () => {
    cpSync(source, root, { recursive: true });
    manifest = JSON.parse(readFileSync(join(root, '.claude-plugin', 'plugin.json'), 'utf8')) as PluginManifest;
    const [decl] = Object.values(manifest.mcpServers);
    if (decl === undefined) throw new Error('plugin.json declares no MCP server');
    const user: Record<string, string> = { sandbox: 'true' };
    const sub = (v: string) =>
      v
        .replaceAll('${CLAUDE_PLUGIN_ROOT}', root)
        .replaceAll('${CLAUDE_PLUGIN_DATA}', data)
        .replace(
          /\$\{user_config\.(\w+)\}/g,
          (_, k: string) => user[k] ?? String(manifest.userConfig[k]?.default ?? ''),
        );
    expect(decl.command).toBe('node');
    const [entry, ...args] = decl.args.map(sub);
    const env = Object.fromEntries(Object.entries(decl.env).map(([k, v]) => [k, sub(v)]));
    server = await spawnStdio(
      env,
      args,
      { capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } } },
      entry,
    );
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
    expect(marketplace.plugins.map((p) => [p.name, p.source])).toEqual([['mediagen-mcp', './plugin']]);
    expect(existsSync(join(source, 'package.json'))).toBe(false);
  });

  it('names no version, so Claude Code versions each install by its git commit', () => {
    expect(marketplace.plugins[0]?.version).toBeUndefined();
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
    const args = { prompt: 'a plugin lighthouse sandbox:webp', counts: '1' };
    let created = await server.call('mediaio_t2i_imagen_4', args);
    const sc = (r: typeof created) => r.structuredContent as Record<string, unknown>;
    if (sc(created).code === 'CONFIRMATION_REQUIRED')
      created = await server.call('mediaio_t2i_imagen_4', { ...args, confirm_token: sc(created).confirm_token });
    const done = await server.call('jobs_wait', { job_id: sc(created).job_id as string });
    expect(sc(done).status).toBe('succeeded');
    expect(done.content.find((c) => c.type === 'image')).toMatchObject({ type: 'image', mimeType: 'image/jpeg' });
    expect(server.stderr()).not.toMatch(/better-sqlite3|NODE_MODULE_VERSION|Cannot find module/);
  });
});
