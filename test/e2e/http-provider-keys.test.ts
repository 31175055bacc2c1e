/**
 * A principal's own provider key, named by an environment variable in the tokens file: its calls use that
 * key; other principals use the server's. The key's value appears in no file, result or log line.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { connectHttp, spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { text } from '../helpers/stdio.js';

const KEY = 'customer-own-key-7d1f0c';
let sandbox: Sandbox;
let server: HttpServerProcess;
let file: string;
let tokens: Record<string, string>;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startSandbox({ key: KEY });
  const dir = tempDir();
  const t = writeTokens(dir, {
    customer: { providerKeys: { MEDIAIO_API_KEY: 'CUSTOMER_MEDIAIO_KEY' } },
    other: {},
    reader: { readOnly: true },
  });
  file = t.file;
  tokens = t.tokens;
  server = await spawnHttp(
    {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: 'the-servers-own-key-that-the-sandbox-refuses',
      CUSTOMER_MEDIAIO_KEY: KEY,
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    },
    ['--tokens-file', file],
  );
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

describe('per-principal settings', () => {
  it("a principal's tool filter (readOnly) narrows its tools/list and what it may call", async () => {
    const reader = await connectHttp(server.url, tokens.reader);
    const other = await connectHttp(server.url, tokens.other);
    const names = async (c: typeof reader) => (await c.client.listTools()).tools.map((t) => t.name);
    expect(await names(other)).toContain('mediaio_t2i_imagen_4');
    const mine = await names(reader);
    expect(mine).not.toContain('mediaio_t2i_imagen_4');
    expect(mine).toContain('jobs_list');
    const before = sandbox.stats().total;
    const r = await reader.call('mediaio_t2i_imagen_4', { prompt: 'not for readers', counts: '1' });
    expect(sc(r).code).toBe('NOT_FOUND');
    expect(sandbox.stats().total).toBe(before);
    await reader.close();
    await other.close();
  });

  it("the customer's calls carry its own key; another principal's carry the server's", async () => {
    const customer = await connectHttp(server.url, tokens.customer);
    const other = await connectHttp(server.url, tokens.other);
    const args = { prompt: 'keyed by customer', counts: '1' };
    const mine = await customer.call('mediaio_t2i_imagen_4', args);
    expect(mine.isError, text(mine)).toBeFalsy();
    const theirs = await other.call('mediaio_t2i_imagen_4', args);
    expect(theirs.isError).toBe(true);
    expect(sc(theirs).code).toBe('PROVIDER_AUTH');
    for (const r of [mine, theirs]) expect(JSON.stringify(r)).not.toContain(KEY);
    expect(readFileSync(file, 'utf8')).not.toContain(KEY);
    expect(server.stderr()).not.toContain(KEY);
    await customer.close();
    await other.close();
  });
});
