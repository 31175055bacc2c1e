#!/usr/bin/env node
// `claude plugin validate <path>` with every warning checked against the known ones below: the run fails on
// an error (validate exits non-zero), on a warning of any other kind, and when the warnings it lists do not
// add up to the counts it states (a changed output format must not pass unread).
// Usage: node .ci/claude-validate.mjs <claude binary> <path>   (HOME and the rest come from the environment)
import { spawnSync } from 'node:child_process';

const KNOWN = [
  // No version on purpose: Claude Code then versions each install by the marketplace's git commit.
  [/^(plugins\[\d+\] plugin\.json → )?version: No version specified\b/, 'no version (git commit versions)'],
  // A listing icon matters only for the plugin directory's catalogue.
  [/^\.claude-plugin\/plugin\.json icon: No icon \(ICON_MISSING\)\./, 'no icon'],
];

const [bin, path] = process.argv.slice(2);
const run = spawnSync(bin, ['plugin', 'validate', path], { encoding: 'utf8' });
process.stdout.write(run.stdout);
process.stderr.write(run.stderr);
if (run.status !== 0) {
  console.error(`claude-validate: claude plugin validate ${path} exited ${run.status}`);
  process.exit(1);
}
let stated = 0;
const listed = [];
let inWarnings = false;
for (const line of run.stdout.split('\n')) {
  const head = /^⚠ Found (\d+) (?:[\w ]+ )?warnings?:$/.exec(line);
  if (head) {
    stated += Number(head[1]);
    inWarnings = true;
  } else if (inWarnings && line.startsWith('  ❯ ')) listed.push(line.slice(4));
  else if (inWarnings && line !== '' && !line.startsWith('  ')) inWarnings = false;
}
const unknown = listed.filter((w) => !KNOWN.some(([re]) => re.test(w)));
if (listed.length !== stated) {
  console.error(`claude-validate: ${stated} warnings stated, ${listed.length} read: the output format changed`);
  process.exit(1);
}
if (unknown.length > 0) {
  console.error(`claude-validate: warnings of a new kind:\n  ${unknown.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `claude-validate: ${path}: ${listed.length} known warning(s) (${
    KNOWN.filter(([re]) => listed.some((w) => re.test(w)))
      .map(([, n]) => n)
      .join(', ') || 'none'
  })`,
);
