#!/usr/bin/env node
// Writes the generated parts of the skill, from one source each:
// - the tool and price table of each provider guide (skills/mediagen-mcp/references/<provider>.md) from the
//   shipped catalogues, between the markers <!-- generated:<provider> start --> and <!-- generated:<provider> end -->.
//   The price column is the server's own price line (same code as tools/list), so the guide cannot drift.
//   Formatted with the repository's Prettier settings.
// - the root SKILL.md (for OpenClaw and ClawHub installs of the repository or package root) from
//   skills/mediagen-mcp/SKILL.md: the same skill in OpenClaw's metadata form (scripts/skill-front.mjs), its
//   links pointing into skills/mediagen-mcp/.
// Usage: node scripts/skill-tables.mjs [--check]   (needs dist/: npm run build)
//   --check: write nothing; exit 1 naming every generated file that is stale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { loadCatalogues, SHIPPED_CATALOGUES } from '../dist/catalogue/load.js';
import { consentNote } from '../dist/guard/policy.js';
import { buildTool } from '../dist/tools/build.js';
import { rootSkill } from './skill-front.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const defaults = { confirmAll: false, confirmAbove: {}, promptOff: [] };

/** One Markdown table cell: no pipes or line breaks. */
const cell = (s) =>
  s
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim();

function table(cat) {
  const rows = cat.operations.map((op) => {
    const tool = buildTool(op, cat, (o, c) => consentNote(o, c, defaults));
    const price =
      tool.description
        .split('\n')
        .find((l) => l.startsWith('Price:'))
        ?.slice(7) ?? 'Free.';
    const off = op.disabled ? ' Off by default: name it in `--tools`.' : '';
    return `| \`${tool.name}\` | ${cell(op.title)}: ${cell(op.summary)}${off} | ${cell(price)} |`;
  });
  const jobs = cat.operations.filter((op) => op.job).length;
  return [
    `${cat.operations.length} tools (${jobs} start a job: finish them with \`jobs_wait\`). Currency: ${cat.currency}.`,
    '',
    '| Tool | What it does | Price |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

const SKILL = 'skills/mediagen-mcp';
const stale = [];
/** Writes `next` to `file` unless it is already so (or, with --check, notes it as stale). */
function update(file, text, next) {
  if (next === text) return;
  if (check) stale.push(file);
  else writeFileSync(file, next);
}

for (const cat of loadCatalogues(SHIPPED_CATALOGUES)) {
  const file = join(root, SKILL, 'references', `${cat.provider}.md`);
  const text = readFileSync(file, 'utf8');
  const start = `<!-- generated:${cat.provider} start -->`;
  const end = `<!-- generated:${cat.provider} end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: markers ${start} … ${end} are missing`);
  const raw = `${text.slice(0, a + start.length)}\n${table(cat)}\n${text.slice(b)}`;
  // Formatted as `prettier --check` wants it, so the check here and the format check agree.
  const next = await prettier.format(raw, { ...(await prettier.resolveConfig(file)), filepath: file });
  update(file, text, next);
}

// The root copy of the skill, OpenClaw's form (scripts/skill-front.mjs); Prettier leaves SKILL.md alone
// (.prettierignore).
const source = readFileSync(join(root, SKILL, 'SKILL.md'), 'utf8');
const rootFile = join(root, 'SKILL.md');
const rootText = existsSync(rootFile) ? readFileSync(rootFile, 'utf8') : '';
update(rootFile, rootText, rootSkill(source, SKILL));

if (stale.length > 0) {
  process.stderr.write(`stale generated skill files (run node scripts/skill-tables.mjs): ${stale.join(', ')}\n`);
  process.exit(1);
}
