#!/usr/bin/env node
// Builds plugin/: the Claude Code plugin, a folder that runs as it is in git (no npm install, no build step).
// The marketplace (.claude-plugin/marketplace.json at the repository root) lists it as "./plugin"; Claude
// Code copies that folder alone, so it holds everything the server reads and no package.json (a package.json
// with a lock file makes Claude Code run `npm ci` in every installed copy):
//   plugin/.claude-plugin/plugin.json        written by hand (not touched here)
//   plugin/server/cli.js                     dist/cli.js and every dependency, bundled by esbuild (one ES module)
//   plugin/server/previews/decode-worker.js  the preview worker (worker-pool.ts starts it beside itself)
//   plugin/server/views/*.html               the MCP App views, copied from dist/views/ (scripts/build-views.mjs)
//   plugin/server/vendor/@jsquash/webp/…     libwebp's glue and .wasm files, read at run time
//   plugin/catalogues/                       a copy of catalogues/ (the server reads ../../catalogues/)
//   plugin/skills/mediagen-mcp/              a copy of the skill (its source stays skills/mediagen-mcp)
// plugin/server/ stands in for dist/: each bundled module sees `import.meta.url` as if it sat at
// plugin/server/<its path in dist/>, so its relative paths resolve inside plugin/ as they do in the repository;
// ../package.json (the version) is put in at build time. Module keys are relative to the repository root with
// symlinks kept (absWorkingDir, preserveSymlinks), so the bundle is the same wherever the clone sits and
// whether node_modules/ is a folder or a link; the build fails if any input lies outside the repository.
// better-sqlite3 stays out (native): the plugin needs Node >= 22.13, whose node:sqlite the store uses.
// Usage: node scripts/build-plugin.mjs            (after npm run build) writes plugin/ (all but .claude-plugin/)
//        node scripts/build-plugin.mjs --check    builds into a temporary folder and exits 1 when plugin/
//                                                 differs from it (CI, npm run check)
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const check = process.argv.includes('--check');
const log = (msg) => process.stderr.write(`build-plugin: ${msg}\n`);
if (!existsSync(join(dist, 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build first');

/** The one part of plugin/ this script keeps; it writes, and --check compares, all the rest. */
const MANIFEST_DIR = '.claude-plugin';
const SKILL = 'skills/mediagen-mcp';
const WEBP_FILES = [
  'package.json',
  'LICENSE',
  'meta.js',
  'codec/LICENSE.codec.md',
  'codec/dec/webp_dec.js',
  'codec/dec/webp_dec.wasm',
  'codec/enc/webp_enc.js',
  'codec/enc/webp_enc.wasm',
];
const VERSION_READ = "createRequire(import.meta.url)('../package.json')";

const toPosix = (p) => p.split(sep).join('/');

/** esbuild plugin: per-module import.meta.url (and the @jsquash/webp resolve) relative to the entry's output. */
function relocate(entryOut) {
  const entryDir = posix.dirname(entryOut); // e.g. '.' for cli.js, 'previews' for the worker
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return {
    name: 'relocate-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        const rel = toPosix(relative(dist, args.path));
        if (rel.startsWith('..')) return undefined; // a dependency: left as it is
        let code = await readFile(args.path, 'utf8');
        if (rel === 'server.js') {
          if (!code.includes(VERSION_READ)) throw new Error(`dist/server.js no longer reads ${VERSION_READ}`);
          code = code.replace(VERSION_READ, JSON.stringify({ name: pkg.name, version: pkg.version }));
        }
        const self = './' + posix.relative(entryDir, rel);
        // Relative to the module's own (relocated) place: the replacement below makes its import.meta.url so.
        const vendor = posix.relative(posix.dirname(rel), 'vendor/@jsquash/webp') + '/';
        code = code.replace(
          /import\.meta\.resolve\(/g,
          `((s) => new URL(s.replace(/^@jsquash\\/webp\\//, ${JSON.stringify(vendor.startsWith('.') ? vendor : './' + vendor)}), import.meta.url).href)(`,
        );
        code = code.replace(/import\.meta\.url/g, `new URL(${JSON.stringify(self)}, import.meta.url).href`);
        return { contents: code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

async function bundle(out) {
  const server = join(out, 'server');
  for (const entry of ['cli.js', 'previews/decode-worker.js']) {
    const result = await build({
      absWorkingDir: root,
      preserveSymlinks: true,
      entryPoints: [join(dist, entry)],
      outfile: join(server, entry),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      external: ['better-sqlite3', 'pg-native'],
      // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
      banner: {
        js:
          '// Generated by scripts/build-plugin.mjs from dist/; do not edit.\n' +
          "import { createRequire as __mgCreateRequire } from 'node:module';\n" +
          'const require = __mgCreateRequire(import.meta.url);',
      },
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      legalComments: 'eof',
      logLevel: 'warning',
      metafile: true,
      plugins: [relocate(entry)],
    });
    // Module keys name each input by its path from absWorkingDir: one outside the repository would make the
    // bundle depend on where it was built.
    const outside = Object.keys(result.metafile.inputs).filter((k) => k.startsWith('../') || posix.isAbsolute(k));
    if (outside.length > 0) throw new Error(`inputs outside the repository: ${outside.slice(0, 5).join(', ')}`);
  }
  mkdirSync(join(server, 'views'), { recursive: true });
  for (const f of readdirSync(join(dist, 'views')).filter((n) => n.endsWith('.html'))) {
    cpSync(join(dist, 'views', f), join(server, 'views', f));
  }
  const webp = join(root, 'node_modules', '@jsquash', 'webp');
  for (const f of WEBP_FILES) {
    mkdirSync(dirname(join(server, 'vendor/@jsquash/webp', f)), { recursive: true });
    cpSync(join(webp, f), join(server, 'vendor/@jsquash/webp', f));
  }
  cpSync(join(root, 'catalogues'), join(out, 'catalogues'), { recursive: true });
  cpSync(join(root, SKILL), join(out, SKILL), { recursive: true });
}

/** Every file under dir, as sorted paths relative to it. */
function walk(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [toPosix(relative(base, join(dir, e.name)))]))
    .sort();
}
const generated = (dir) => walk(dir).filter((f) => !f.startsWith(`${MANIFEST_DIR}/`));

const target = join(root, 'plugin');
if (!check) {
  for (const e of existsSync(target) ? readdirSync(target) : [])
    if (e !== MANIFEST_DIR) rmSync(join(target, e), { recursive: true, force: true });
  await bundle(target);
  log(`wrote ${generated(target).length} files to plugin/`);
} else {
  const fresh = mkdtempSync(join(tmpdir(), 'mediagen-plugin-'));
  try {
    await bundle(fresh);
    const want = generated(fresh);
    const have = generated(target);
    const stale = [
      ...want.filter((f) => !have.includes(f) || !readFileSync(join(fresh, f)).equals(readFileSync(join(target, f)))),
      ...have.filter((f) => !want.includes(f)),
    ];
    if (stale.length > 0) {
      log(`plugin/ is stale (${stale.join(', ')}): run npm run build:plugin, then commit plugin/`);
      process.exit(1);
    }
    log(`plugin/ matches a fresh build (${want.length} files)`);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}
