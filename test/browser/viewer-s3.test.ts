/**
 * With an S3-compatible output store the viewer plays the kept copy (its presigned stored_url), not the
 * provider's URL: the bucket's origin is in the view's CSP, and the img loads from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openHost, type Harness } from '../helpers/browser.js';
import {
  connectHttp,
  spawnHttp,
  writeTokens,
  type HttpClient,
  type HttpServerProcess,
} from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { startS3, type TestBucket } from '../helpers/s3.js';
import { text } from '../helpers/stdio.js';

let bucket: TestBucket;
let server: HttpServerProcess;
let client: HttpClient;
let browser: Harness;
let token: string;

beforeAll(async () => {
  bucket = await startS3();
  const dir = tempDir();
  const t = writeTokens(dir, { erin: {} });
  token = t.tokens.erin;
  server = await spawnHttp({ ...bucket.env, MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50' }, [
    '--sandbox',
    '--tokens-file',
    t.file,
    '--output-store',
    `s3://${bucket.bucket}/kept`,
  ]);
  client = await connectHttp(server.url, token);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await server?.stop();
  await bucket?.close();
});

describe('the viewer with an s3 output store', () => {
  it('loads the kept copy from the bucket, whose origin the resource CSP lists', async () => {
    const created = await client.call('phaya_text_to_image', { prompt: 'a kept lantern' });
    expect(created.isError, text(created)).toBeFalsy();
    const jobId = (created.structuredContent as { job_id: string }).job_id;
    const done = await client.call('jobs_wait', { job_id: jobId, wait_seconds: 30 });
    const stored = (done.structuredContent as { outputs: { stored_url?: string }[] }).outputs[0].stored_url;
    expect(stored, text(done)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const h = await openHost(browser, { mcpUrl: server.url, tool: 'jobs_get', args: { job_id: jobId }, token });
    await h.view.locator('[data-testid="output-1"][data-state="loaded"]').waitFor({ timeout: 20_000 });
    const src = await h.view.locator('img[data-testid="media-1"]').getAttribute('src');
    expect(new URL(src!).origin).toBe(new URL(stored!).origin);
    expect(src).toContain(`/kept/erin/${jobId}/1.png`);
    expect(await h.view.locator('[data-testid="download-1"]').getAttribute('href')).toBe(src);
    const csp = await (
      await h.frame()
    ).evaluate(
      () => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    );
    expect(csp).toContain(new URL(stored!).origin);
    await h.page.close();
  }, 90_000);
});
