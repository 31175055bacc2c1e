import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const MEDIAIO_FILE = fileURLToPath(new URL('../../catalogues/mediaio/c_api_doc_detail.json', import.meta.url));
export const ACME_FILE = fileURLToPath(new URL('../fixtures/catalogues/acme.json', import.meta.url));

/** A new empty state folder: spawned servers never touch the user's own ledger unless a test says so. */
export function freshStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'mediagen-state-'));
}

/** The Acme test catalogue with a time limit of 0.3 s on its job (a file in a new temp folder). */
export function quickTimeoutCatalogue(): string {
  const cat = JSON.parse(readFileSync(ACME_FILE, 'utf8')) as { operations: { job?: Record<string, unknown> }[] };
  for (const op of cat.operations) if (op.job) op.job.timeoutMinutes = 0.005;
  const file = join(mkdtempSync(join(tmpdir(), 'mediagen-cat-')), 'acme-quick.json');
  writeFileSync(file, JSON.stringify(cat));
  return file;
}
