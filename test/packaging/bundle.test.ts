/**
 * The unpacked MCPB bundle started as Claude Desktop starts it: `node <dir>/dist/cli.js` with the manifest's
 * env (user_config substituted: no keys, sandbox on), under whatever Node runs this file. CI packs the
 * bundle, unpacks it and runs this file under the npm-package Node 22 and Node 24, with
 * MEDIAGEN_BUNDLE_DIR set to the unpacked folder; without it (plain `npm test`) the file is skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFreeCalls, expectGuardedJob, expectToolList } from '../helpers/smoke.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, type StdioServer } from '../helpers/stdio.js';

const dir = process.env.MEDIAGEN_BUNDLE_DIR;

interface Manifest {
  compatibility: { runtimes: { node: string } };
  tools_generated?: boolean;
  server: { mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  user_config: Record<string, { default?: string | number | boolean }>;
}

function files(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** The manifest's env with ${__dirname}, ${HOME} and ${user_config.*} resolved as a host would. */
function hostEnv(m: Manifest, bundle: string, home: string, user: Record<string, string>): Record<string, string> {
  const sub = (v: string) =>
    v
      .replaceAll('${__dirname}', bundle)
      .replace(/\$\{user_config\.([a-z_]+)\}/g, (_, k: string) => user[k] ?? String(m.user_config[k]?.default ?? ''))
      .replaceAll('${HOME}', home); // a default may itself name ${HOME}
  return Object.fromEntries(Object.entries(m.server.mcp_config.env).map(([k, v]) => [k, sub(v)]));
}

describe.skipIf(dir === undefined)(`unpacked MCPB bundle under Node ${process.versions.node}`, () => {
  const bundle = dir ?? '';
  let manifest: Manifest;
  let server: StdioServer;
  const home = tempDir();

  beforeAll(async () => {
    manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as Manifest;
    const [entry] = manifest.server.mcp_config.args.map((a) => a.replaceAll('${__dirname}', bundle));
    const env = {
      HOME: home,
      MEDIAGEN_STATE_DIR: join(home, 'state'),
      ...hostEnv(manifest, bundle, home, { sandbox: 'true' }),
    };
    server = await spawnStdio(env, [], {}, entry);
  });
  afterAll(() => server?.close());

  it('holds no native module, no better-sqlite3, no sources or tests, and asks for Node >= 22.13', () => {
    const all = files(bundle);
    expect(all.filter((f) => f.endsWith('.node'))).toEqual([]);
    expect(all.filter((f) => f.includes('better-sqlite3') || f.includes('better_sqlite3'))).toEqual([]);
    expect(all.filter((f) => /^(src|test|bench|\.ci|scripts)\//.test(f))).toEqual([]);
    expect(all).toEqual(expect.arrayContaining(['manifest.json', 'dist/cli.js', 'README.md', 'LICENSE', 'SKILL.md']));
    // the skill: the root copy's links point into skills/, which ships whole
    for (const guide of ['SKILL.md', 'references/mediaio.md', 'references/phaya.md', 'references/ph0ny.md'])
      expect(all).toContain(`skills/mediagen-mcp/${guide}`);
    expect(manifest.compatibility.runtimes.node).toBe('>=22.13.0');
    expect(manifest.tools_generated).toBe(true);
    expect(Object.keys(manifest.user_config)).toEqual(expect.arrayContaining(['cap_day', 'confirm_above']));
  });

  it('initializes and lists every provider’s tools in sandbox mode with no key', async () => {
    expect(server.client.getServerVersion()?.name).toBe('mediagen-mcp');
    await expectToolList(server);
  });

  it('answers a free call and runs one guarded job to its result', async () => {
    await expectFreeCalls(server);
    await expectGuardedJob(server);
    expect(server.stderr()).not.toMatch(/better-sqlite3|NODE_MODULE_VERSION/);
  });

  it('carries what previews need: the WebP decoder .wasm, and a WebP result comes back with a JPEG thumbnail', async () => {
    expect(files(bundle)).toEqual(expect.arrayContaining(['node_modules/@jsquash/webp/codec/dec/webp_dec.wasm']));
    const args = { prompt: 'a bundled lighthouse sandbox:webp', counts: '1' };
    let created = await server.call('mediaio_t2i_imagen_4', args);
    const sc = (r: typeof created) => r.structuredContent as Record<string, unknown>;
    if (sc(created).code === 'CONFIRMATION_REQUIRED')
      created = await server.call('mediaio_t2i_imagen_4', { ...args, confirm_token: sc(created).confirm_token });
    const done = await server.call('jobs_wait', { job_id: sc(created).job_id as string });
    expect(sc(done).status).toBe('succeeded');
    const image = done.content.find((c) => c.type === 'image');
    expect(image).toMatchObject({ type: 'image', mimeType: 'image/jpeg' });
  });
});
