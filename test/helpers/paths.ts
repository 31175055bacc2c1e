import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const MEDIAIO_FILE = fileURLToPath(new URL('../../catalogues/mediaio/c_api_doc_detail.json', import.meta.url));
export const ACME_FILE = fileURLToPath(new URL('../fixtures/catalogues/acme.json', import.meta.url));
