#!/usr/bin/env node
// Builds mediagen-mcp.mcpb in the repository root: a pruned copy of what the bundle needs (dist/, catalogues/,
// the skill (SKILL.md, skills/), manifest.json, README, LICENSE and the production dependencies WITHOUT better-sqlite3, so no
// native module: Claude Desktop's Node >= 22.13 has node:sqlite built in), validated and packed with
// @anthropic-ai/mcpb. Run through `npm run pack:mcpb` (which builds dist/ first).
// Usage: node scripts/pack-mcpb.mjs [--stage DIR] [--out FILE]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { stage: { type: 'string' }, out: { type: 'string' } } });
const stage = resolve(values.stage ?? join(root, '.cache', 'mcpb-stage'));
const out = resolve(values.out ?? join(root, 'mediagen-mcp.mcpb'));
const mcpb = join(root, 'node_modules', '@anthropic-ai', 'mcpb', 'dist', 'cli', 'cli.js');
const log = (msg) => process.stderr.write(`pack:mcpb: ${msg}\n`);

if (!existsSync(join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build first');

/** Every file under dir, as paths relative to it. */
function walk(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

// 1. A fresh copy of what the bundle ships (no source maps: they only repeat src/).
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const keep = ['dist', 'catalogues', 'SKILL.md', 'skills', 'manifest.json', 'README.md', 'LICENSE', '.mcpbignore'];
for (const name of [...keep, 'package.json', 'package-lock.json']) {
  cpSync(join(root, name), join(stage, name), { recursive: true, filter: (src) => !src.endsWith('.map') });
}

// 2. Production dependencies from the lock file, without optional ones (better-sqlite3) and without scripts.
log('installing production dependencies (no optional, no scripts)');
execFileSync('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], {
  cwd: stage,
  stdio: ['ignore', 'ignore', 'inherit'],
});
rmSync(join(stage, 'package-lock.json'));
rmSync(join(stage, 'node_modules', '.package-lock.json'), { force: true });

// 3. Prune what no runtime reads: type declarations, source maps, TypeScript sources, docs.
const junk = /(\.d\.[cm]?ts|\.map|\.tsbuildinfo|(?<!\.d)\.[cm]?ts|\.md|\.markdown)$/i;
for (const file of walk(join(stage, 'node_modules'))) {
  if (junk.test(file) && !/licen[cs]e/i.test(file)) rmSync(join(stage, 'node_modules', file));
}

// 4. The promise the manifest makes: nothing native inside.
const native = walk(stage).filter((f) => f.endsWith('.node') || f.includes('better-sqlite3'));
if (native.length > 0) throw new Error(`native files in the bundle: ${native.join(', ')}`);

// 5. Validate and pack.
execFileSync(process.execPath, [mcpb, 'validate', join(stage, 'manifest.json')], { stdio: ['ignore', 2, 'inherit'] });
rmSync(out, { force: true });
execFileSync(process.execPath, [mcpb, 'pack', stage, out], { stdio: ['ignore', 2, 'inherit'] });
const files = walk(stage);
const unpacked = files.reduce((n, f) => n + statSync(join(stage, f)).size, 0);
log(
  `${out}: ${(statSync(out).size / 1e6).toFixed(2)} MB zipped, ${(unpacked / 1e6).toFixed(2)} MB in ${files.length} files`,
);
process.stdout.write(out + '\n');
