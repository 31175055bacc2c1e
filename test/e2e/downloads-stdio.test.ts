/**
 * Downloads that must not hang or collide (issue 9, items 6 and 8), end to end: the built server over
 * stdio, a real SDK Client, and a hostile provider on loopback whose result URL drips 1 byte a second.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { ACME_FILE } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let hostile: HostileProvider;
let server: StdioServer;
const out = join(tempDir('mediagen-dl-'), 'out');
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

beforeAll(async () => {
  hostile = await startHostileProvider();
  server = await spawnStdio(
    {
      ACME_API_KEY: ACME_KEY,
      ACME_BASE_URL: hostile.url,
      MEDIAGEN_STATE_DIR: tempDir(),
      MEDIAGEN_OUTPUT_DIR: out,
      MEDIAGEN_POLL_MS: '50',
      MEDIAGEN_WAIT_SECONDS: '3',
      MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
      // This suite counts the provider's hits per output: an inline preview would fetch a (not yet
      // downloaded) image once more (test/e2e/previews-stdio.test.ts covers previews).
      MEDIAGEN_PREVIEWS: 'off',
    },
    ['--catalogue', ACME_FILE],
  );
});
afterAll(async () => {
  await server?.close();
  await hostile?.close();
});

async function job(urls: string[]): Promise<string> {
  hostile.setOutputs(urls);
  const r = await server.call('acme_image_create', { prompt: 'a paper boat' });
  expect(r.isError, text(r)).toBeFalsy();
  return sc(r).job_id as string;
}

describe('downloads over stdio', () => {
  it('a result URL that drips 1 byte/s (60 s) does not hold jobs_wait {wait_seconds: 3} past its budget', async () => {
    const id = await job([`${hostile.url}/drip`]);
    const started = Date.now();
    const r = await server.call('jobs_wait', { job_id: id, wait_seconds: 3, download: true });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { complete: false, saved: [] } });
    expect(text(r)).toContain(`${hostile.url}/drip`);
    expect(text(r)).toMatch(/did not complete within \d+ s[^]*call jobs_wait again with download: true/i);
    expect(readdirSync(out).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('jobs_get with download is bounded too (by the default wait, here 3 s)', async () => {
    const id = await job([`${hostile.url}/drip`]);
    const started = Date.now();
    const r = await server.call('jobs_get', { job_id: id, download: true });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { complete: false } });
    expect(readdirSync(out).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('five simultaneous download:true calls on one job all succeed and fetch the output once', async () => {
    const id = await job([`${hostile.url}/media/stdio.png`]);
    await server.call('jobs_wait', { job_id: id });
    const rs = await Promise.all(
      Array.from({ length: 5 }, () => server.call('jobs_wait', { job_id: id, download: true })),
    );
    for (const r of rs) {
      expect(r.isError, text(r)).toBeFalsy();
      expect((sc(r).outputs as { path: string }[])[0].path).toBe(join(out, `${id}-1.png`));
    }
    expect(hostile.hits('/media/stdio.png')).toBe(1);
  });
});
