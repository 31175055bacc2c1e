// Benchmark: what inline previews cost. Results -> bench/results/previews.json.
//
//   npm run bench:previews            (builds first)
//
// 1. Time per thumbnail (dist/previews/thumbnail.js makeThumbnail: header check, a fresh decode worker
//    with its limits, decode, area-average shrink to a 768 px long side, JPEG at the first quality that
//    fits 300 KB) for PNG, JPEG and WebP sources of a few sizes, built in code as the sandbox builds its
//    samples. Each case runs RUNS times one after another; min and median wall time are reported.
// 2. Bundle size the preview code adds: dist/previews (no source maps) plus the packages it brought
//    (pngjs, jpeg-js, @jsquash/webp, music-metadata) and their own dependencies that nothing else in
//    the production tree needs, counted as the MCPB ships them (scripts/pack-mcpb.mjs prunes type
//    declarations, source maps, TypeScript sources and docs).
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeThumbnail } from '../dist/previews/thumbnail.js';
import { makePng } from '../dist/sandbox/media.js';
import { makeJpeg, makeWebp } from '../dist/sandbox/media-images.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = [
  [640, 480],
  [1600, 1200],
  [3000, 2000],
];
const MAKERS = {
  png: (w, h) => makePng(w, h),
  jpeg: (w, h) => makeJpeg(w, h, 85),
  webp: (w, h) => makeWebp(w, h),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases = [];
for (const [format, make] of Object.entries(MAKERS)) {
  for (const [w, h] of SIZES) {
    const src = await make(w, h);
    const times = [];
    let last;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      last = await makeThumbnail(src);
      times.push(performance.now() - t);
    }
    if (!last.ok) throw new Error(`${format} ${w}x${h}: ${last.reason}`);
    const c = {
      format,
      source: `${w}x${h}`,
      source_bytes: src.length,
      thumbnail: `${last.width}x${last.height}`,
      thumbnail_bytes: last.data.length,
      quality: last.quality,
      ms_min: Math.round(Math.min(...times)),
      ms_median: Math.round(median(times)),
    };
    cases.push(c);
    process.stderr.write(`${JSON.stringify(c)}\n`);
  }
}

// ---- bundle size
const junk = /(\.d\.[cm]?ts|\.map|\.tsbuildinfo|(?<!\.d)\.[cm]?ts|\.md|\.markdown)$/i;
function size(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += e.name === 'node_modules' ? 0 : size(p);
    else if (!junk.test(e.name) || /licen[cs]e/i.test(e.name)) n += statSync(p).size;
  }
  return n;
}
const pkgDir = (name) => join(root, 'node_modules', name);
const deps = (name) => {
  const p = JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8'));
  return Object.keys(p.dependencies ?? {});
};
function closure(names) {
  const seen = new Set();
  const walk = (n) => {
    if (seen.has(n) || !existsSync(pkgDir(n))) return;
    seen.add(n);
    deps(n).forEach(walk);
  };
  names.forEach(walk);
  return seen;
}
const NEW = ['pngjs', 'jpeg-js', '@jsquash/webp', 'music-metadata'];
const mine = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const others = Object.keys(mine.dependencies).filter((d) => !NEW.includes(d) && d !== '@modelcontextprotocol/ext-apps');
const shared = closure(others);
const added = [...closure(NEW)].filter((n) => !shared.has(n)).sort();
const packages = Object.fromEntries(added.map((n) => [n, size(pkgDir(n))]));
const distPreviews = size(join(root, 'dist', 'previews'));
const wasm = statSync(join(pkgDir('@jsquash/webp'), 'codec/dec/webp_dec.wasm')).size;
const bundle = {
  dist_previews_bytes: distPreviews,
  packages_bytes: packages,
  total_bytes: distPreviews + Object.values(packages).reduce((a, b) => a + b, 0),
  webp_decoder_wasm_bytes: wasm,
  note: 'packages reached only through the preview dependencies, pruned as the MCPB ships them; @jsquash/webp also carries its encoder (used by the sandbox only)',
};
process.stderr.write(`${JSON.stringify(bundle)}\n`);

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = join(root, 'bench', 'results', 'previews.json');
writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString().slice(0, 10), node: process.version, runs: RUNS, cases, bundle },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`${relative(root, out)}\n`);
