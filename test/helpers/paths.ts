import { mkdtempSync } from 'node:fs';
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
