/**
 * One end-to-end scenario, one piece of code, run over stdio, Streamable HTTP stateful and stateless:
 * list, quote, consent by token, create, wait with progress, download, spend report.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { connectHttp, spawnHttp, type HttpServerProcess } from '../helpers/http-server.js';
import { spawnStdio, text } from '../helpers/stdio.js';

const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const TOOL = 'mediaio_t2i_imagen_4';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 3 });
});
afterAll(() => sandbox.close());

function serverEnv(outputDir: string): Record<string, string> {
  return {
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: sandbox.key,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_OUTPUT_DIR: outputDir,
    MEDIAGEN_POLL_MS: '50',
    MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
    MEDIAGEN_CONFIRM: 'all',
    // The sandbox's result URLs are on loopback, which downloads refuse unless allowed.
    MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
  };
}

/** The scenario, whatever carries it. */
async function scenario(client: Client, outputDir: string, stateless = false): Promise<void> {
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const args = { prompt: 'a red kite over the sea', counts: '1' };

  const tools = (await client.listTools()).tools.map((t) => t.name);
  expect(tools).toEqual(expect.arrayContaining([TOOL, 'quote', 'jobs_wait', 'spend_report']));

  const q = await call('quote', { tool: TOOL, arguments: args });
  expect(sc(q)).toMatchObject({ price: { kind: 'exact', credits: 1 }, consent: { needed: true } });
  if (stateless) {
    expect(sc(q).consent).toMatchObject({ path: 'token' });
    expect(text(q)).toMatch(/stateless: consent goes by confirm_token/);
  }

  const before = sandbox.stats().total;
  const asked = await call(TOOL, args);
  expect(sc(asked).code).toBe('CONFIRMATION_REQUIRED');
  expect(sandbox.stats().total).toBe(before); // asking spent nothing
  const created = await call(TOOL, { ...args, confirm_token: sc(asked).confirm_token });
  expect(created.isError, text(created)).toBeFalsy();
  const jobId = sc(created).job_id as string;

  const progress: number[] = [];
  const done = (await client.callTool({ name: 'jobs_wait', arguments: { job_id: jobId, download: true } }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  })) as CallToolResult;
  expect(sc(done)).toMatchObject({ job_id: jobId, status: 'succeeded' });
  expect(progress.length).toBeGreaterThanOrEqual(1);
  const saved = (sc(done).outputs as { path: string }[])[0].path;
  expect(saved.startsWith(outputDir)).toBe(true);
  expect(existsSync(saved)).toBe(true);

  const report = sc(await call('spend_report', {}));
  const mediaio = (report.providers as { provider: string; all_time: { committed: number } }[]).find(
    (p) => p.provider === 'mediaio',
  );
  expect(mediaio?.all_time.committed).toBe(1);
  expect((report.entries as { job_id: string }[]).map((e) => e.job_id)).toContain(jobId);
}

describe('one scenario over every transport', () => {
  it('stdio', async () => {
    const out = tempDir('mediagen-out-');
    const s = await spawnStdio(serverEnv(out));
    try {
      await scenario(s.client, out);
    } finally {
      await s.close();
    }
  });

  for (const mode of ['stateful', 'stateless'] as const) {
    it(`Streamable HTTP, ${mode}`, async () => {
      const out = tempDir('mediagen-out-');
      let server: HttpServerProcess | undefined;
      try {
        server = await spawnHttp(serverEnv(out), mode === 'stateless' ? ['--stateless'] : []);
        const c = await connectHttp(server.url);
        await scenario(c.client, out, mode === 'stateless');
        await c.close();
      } finally {
        await server?.stop();
      }
    });
  }
});
