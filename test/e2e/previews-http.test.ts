/**
 * Previews over Streamable HTTP with principals: the MCP Tasks result carries the thumbnail as jobs_wait
 * does; media_thumbnail is scoped to its principal (another principal's job is NOT_FOUND, nothing sent);
 * a principal with `previews: "off"` in the tokens file gets none.
 */
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import {
  connectHttp,
  spawnHttp,
  writeTokens,
  type HttpClient,
  type HttpServerProcess,
} from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { text } from '../helpers/stdio.js';

type Block = { type: string; data?: string; mimeType?: string };
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const images = (r: CallToolResult) => (r.content as Block[]).filter((c) => c.type === 'image');

let sandbox: Sandbox;
let server: HttpServerProcess;
let alice: HttpClient;
let bob: HttpClient;
let carol: HttpClient;
const ARGS = { prompt: 'a lighthouse sandbox:jpeg', counts: '1' };

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
  const dir = tempDir();
  const t = writeTokens(dir, { alice: {}, bob: {}, carol: { previews: 'off' } });
  server = await spawnHttp(
    {
      MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
      MEDIAIO_API_KEY: sandbox.key,
      MEDIAGEN_STATE_DIR: dir,
      MEDIAGEN_POLL_MS: '50',
      MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
      MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    },
    ['--tokens-file', t.file],
  );
  alice = await connectHttp(server.url, t.tokens.alice);
  bob = await connectHttp(server.url, t.tokens.bob);
  carol = await connectHttp(server.url, t.tokens.carol);
}, 60_000);
afterAll(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
  await sandbox?.close();
});

async function viaTask(client: Client): Promise<CallToolResult> {
  let last: { type: string; result?: unknown } | undefined;
  for await (const m of client.experimental.tasks.callToolStream(
    { name: 'mediaio_t2i_imagen_4', arguments: ARGS },
    CallToolResultSchema,
    { task: {} },
  ))
    last = m as { type: string; result?: unknown };
  expect(last?.type).toBe('result');
  return last!.result as CallToolResult;
}

describe('previews over HTTP', () => {
  it("the Tasks result carries the thumbnail; another principal's media_thumbnail is NOT_FOUND", async () => {
    const result = await viaTask(alice.client);
    expect(sc(result).status).toBe('succeeded');
    const [img] = images(result);
    expect(img?.mimeType).toBe('image/jpeg');
    const decoded = jpeg.decode(Buffer.from(img.data ?? '', 'base64'), { useTArray: true });
    expect(decoded).toMatchObject({ width: 768, height: 576 });
    const id = sc(result).job_id as string;

    const own = await alice.call('media_thumbnail', { job_id: id, output: 1 });
    expect(images(own)).toHaveLength(1);
    const before = sandbox.stats().total;
    const other = await bob.call('media_thumbnail', { job_id: id, output: 1 });
    expect(other.isError).toBe(true);
    expect(text(other)).toMatch(/^NOT_FOUND: /);
    expect(images(other)).toHaveLength(0);
    expect(sandbox.stats().total).toBe(before);
  });

  it('a principal with previews "off" gets no preview blocks', async () => {
    const created = await carol.call('mediaio_t2i_imagen_4', ARGS);
    expect(created.isError, text(created)).toBeFalsy();
    const done = await carol.call('jobs_wait', { job_id: sc(created).job_id as string });
    expect(sc(done).status).toBe('succeeded');
    expect(images(done)).toHaveLength(0);
    expect(text(done)).not.toContain('Previews:');
    const before = sandbox.stats().total;
    const thumb = await carol.call('media_thumbnail', { job_id: sc(done).job_id as string, output: 1 });
    expect(images(thumb)).toHaveLength(0);
    expect(text(thumb)).toBe('no preview: previews are off on this server / for this principal');
    expect(sandbox.stats().total).toBe(before);
  });
});
