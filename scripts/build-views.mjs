#!/usr/bin/env node
// Builds the MCP App views (DESIGN §12): every src/views/app/<name>.page.ts, with what it imports (the
// ext-apps App, CSS), bundled by esbuild into ONE self-contained dist/views/<name>.html: no CDN, no second
// file. Part of `npm run build`; the bundle, the tarball and the MCPB ship the HTML, never esbuild.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/views/app');
const out = join(root, 'dist/views');
mkdirSync(out, { recursive: true });

/** `</script` or `<!--` inside inlined code would end or comment out the element early. */
const inlineSafe = (code) => code.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

const pages = readdirSync(src).filter((f) => f.endsWith('.page.ts'));
for (const page of pages) {
  const name = page.slice(0, -'.page.ts'.length);
  const result = await build({
    entryPoints: [join(src, page)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    outdir: out,
    logLevel: 'warning',
  });
  const js = result.outputFiles
    .filter((f) => f.path.endsWith('.js'))
    .map((f) => f.text)
    .join('\n');
  const css = result.outputFiles
    .filter((f) => f.path.endsWith('.css'))
    .map((f) => f.text)
    .join('\n');
  const html =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>mediagen ${name}</title><style>${inlineSafe(css)}</style></head>` +
    `<body><main id="app"></main><script type="module">${inlineSafe(js)}</script></body></html>\n`;
  writeFileSync(join(out, `${name}.html`), html);
  process.stderr.write(`views: dist/views/${name}.html (${Math.round(html.length / 1024)} KiB)\n`);
}
