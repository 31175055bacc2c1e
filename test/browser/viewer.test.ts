/**
 * The viewer in real headless Chromium, through the real host page, against a real server over HTTP with
 * the sandbox: an image job renders (the img has loaded, the screenshot is not blank), a video reaches
 * readyState >= 2, a media host outside the view's CSP is blocked, and a running job becomes succeeded
 * in the view with no reload (the view polls jobs_get through the host).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { launchBrowser, openHost, pixelVariance, type Harness } from '../helpers/browser.js';
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

/** Screenshots every run writes (the best are copied by hand into docs/screenshots/ for the README). */
const SHOTS = join(ROOT, 'test-output/screenshots');
let server: HttpServerProcess;
let client: HttpClient;
let browser: Harness;
let token: string;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

/** Create a job (approving with the token when the price asks for it) and return its id. */
async function create(tool: string, args: Record<string, unknown>): Promise<string> {
  let r = await client.call(tool, args);
  const confirm = (r.structuredContent as { confirm_token?: string } | undefined)?.confirm_token;
  if (confirm) r = await client.call(tool, { ...args, confirm_token: confirm });
  expect(r.isError, text(r)).toBeFalsy();
  return sc(r).job_id as string;
}

async function finished(jobId: string): Promise<CallToolResult> {
  const r = await client.call('jobs_wait', { job_id: jobId, wait_seconds: 30 });
  expect(sc(r).status, text(r)).toBe('succeeded');
  return r;
}

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { alice: {} });
  token = t.tokens.alice;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50' }, ['--sandbox', '--tokens-file', t.file]);
  client = await connectHttp(server.url, token);
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await server?.stop();
});

describe('the viewer in Chromium', () => {
  it('renders an image job: the img has loaded and the screenshot is not blank', async () => {
    const jobId = await create('phaya_text_to_image', { prompt: 'a lighthouse at dusk, oil on canvas' });
    await finished(jobId);
    const h = await openHost(browser, { mcpUrl: server.url, tool: 'jobs_get', args: { job_id: jobId }, token });
    const viewer = h.view.locator('[data-testid="viewer"]');
    await viewer.locator('[data-testid="job-status"][data-status="succeeded"]').waitFor({ timeout: 20_000 });
    const img = h.view.locator('img[data-testid="media-1"]');
    await h.view.locator('[data-testid="output-1"][data-state="loaded"]').waitFor({ timeout: 20_000 });
    const natural = await img.evaluate((el) => (el as HTMLImageElement).naturalWidth);
    expect(natural, h.logs.join('\n')).toBeGreaterThan(0);
    expect(await h.view.locator('[data-testid="job-prompt"]').textContent()).toContain('a lighthouse at dusk');
    expect(await h.view.locator('[data-testid="job-charge"]').getAttribute('data-state')).toBe('committed');
    expect(await h.view.locator('[data-testid="download-1"]').getAttribute('href')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\//,
    );
    const shot = await h.page.screenshot({ fullPage: true });
    writeFileSync(join(SHOTS, 'viewer-image.png'), shot);
    expect(pixelVariance(shot)).toBeGreaterThan(50);
    expect(pixelVariance(await img.screenshot())).toBeGreaterThan(50);
    await h.page.close();
  }, 90_000);

  it("plays a video job: the video element reaches readyState >= 2 (the sandbox's H.264 sample)", async () => {
    const jobId = await create('phaya_seedance', { prompt: 'waves rolling onto a beach' });
    await finished(jobId);
    const h = await openHost(browser, { mcpUrl: server.url, tool: 'jobs_wait', args: { job_id: jobId }, token });
    const video = h.view.locator('video[data-testid="media-1"]');
    await video.waitFor({ timeout: 20_000 });
    const frame = await h.frame();
    await frame
      .waitForFunction(
        () => (document.querySelector('video[data-testid="media-1"]') as HTMLVideoElement).readyState >= 2,
        undefined,
        {
          timeout: 20_000,
        },
      )
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${h.logs.join('\n')}`);
      });
    expect(await video.evaluate((v) => (v as HTMLVideoElement).videoWidth)).toBeGreaterThan(0);
    writeFileSync(join(SHOTS, 'viewer-video.png'), await h.page.screenshot({ fullPage: true }));
    await h.page.close();
  }, 90_000);

  it("blocks media on a host outside the view's CSP: the element fails and a securitypolicyviolation names it", async () => {
    // The sandbox answers this job's result URL on 127.0.0.2, a host the resource's CSP does not list.
    const jobId = await create('phaya_text_to_image', { prompt: 'a fox sandbox:loopbackurl' });
    const done = await finished(jobId);
    const url = (sc(done).outputs as { url: string }[])[0].url;
    expect(new URL(url).hostname).toBe('127.0.0.2');
    const h = await openHost(browser, { mcpUrl: server.url, tool: 'jobs_get', args: { job_id: jobId }, token });
    await h.view.locator('[data-testid="output-1"][data-state="blocked"]').waitFor({ timeout: 20_000 });
    const note = h.view.locator('[data-testid="csp-blocked"]');
    await note.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await note.textContent()).toContain('127.0.0.2');
    expect(
      await h.view.locator('img[data-testid="media-1"]').evaluate((el) => (el as HTMLImageElement).naturalWidth),
    ).toBe(0);
    // The policy the host applied is the resource's: the sandbox's own origin, not 127.0.0.2.
    const csp = await (
      await h.frame()
    ).evaluate(
      () => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    );
    expect(csp).toMatch(/img-src 'self' data: http:\/\/127\.0\.0\.1:\d+/);
    expect(csp).not.toContain('127.0.0.2');
    expect(csp).toContain("connect-src 'none'");
    await h.page.close();
  }, 90_000);

  it('re-marks a failed load as blocked when the policy violation comes after the error event', async () => {
    const jobId = await create('phaya_text_to_image', { prompt: 'a heron at dawn' });
    await finished(jobId);
    const h = await openHost(browser, { mcpUrl: server.url, tool: 'jobs_get', args: { job_id: jobId }, token });
    const fig = h.view.locator('[data-testid="output-1"]');
    await h.view.locator('[data-testid="output-1"][data-state="loaded"]').waitFor({ timeout: 20_000 });
    const frame = await h.frame();
    // The error event first (a URL on an allowed origin that is not there), then a violation naming it:
    // the order in which Chromium may report a refused load.
    // The figure is marked loading before the new src is set, in the same task: the error event cannot come
    // between the two (it did on a loaded machine, and the test then waited for an error already seen).
    const output = await frame.evaluate(() => {
      const img = document.querySelector('img[data-testid="media-1"]') as HTMLImageElement;
      const url = img.src;
      img.closest('figure')!.dataset.state = 'loading';
      img.src = `${new URL(url).origin}/no-such-output.png`;
      return url;
    });
    await h.view.locator('[data-testid="output-1"][data-state="error"]').waitFor({ timeout: 20_000 });
    await frame.evaluate((blockedURI) => {
      document.dispatchEvent(
        new SecurityPolicyViolationEvent('securitypolicyviolation', {
          blockedURI,
          violatedDirective: 'img-src',
          effectiveDirective: 'img-src',
          originalPolicy: "img-src 'self'",
          disposition: 'enforce',
          statusCode: 0,
        }),
      );
    }, output);
    await h.view.locator('[data-testid="output-1"][data-state="blocked"]').waitFor({ timeout: 10_000 });
    expect(await fig.textContent()).toContain('content policy');
    await h.page.close();
  }, 90_000);

  it('shows a failed job refunded: the charge says refunded, the status failed', async () => {
    const jobId = await create('phaya_text_to_image', { prompt: 'a broken mirror sandbox:fail' });
    const r = await client.call('jobs_wait', { job_id: jobId, wait_seconds: 30 });
    expect(sc(r).status, text(r)).toBe('failed');
    const h = await openHost(browser, { mcpUrl: server.url, tool: 'jobs_get', args: { job_id: jobId }, token });
    await h.view.locator('[data-testid="job-status"][data-status="failed"]').waitFor({ timeout: 20_000 });
    const charge = h.view.locator('[data-testid="job-charge"][data-state="refunded"]');
    await charge.waitFor({ timeout: 20_000 });
    expect(await charge.textContent()).toMatch(/^refunded: /);
    // A refund also follows a documented cancel (DESIGN §5): the words do not claim the job failed.
    expect(await charge.textContent()).not.toContain('failed');
    expect(await h.view.locator('[data-testid="cancel-button"]').count()).toBe(0);
    await h.page.close();
  }, 90_000);

  it('updates a running job live: the view polls jobs_get through the host until it succeeds, with no reload', async () => {
    // The host itself calls the create tool: the result it hands the view is the job just started.
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'phaya_text_to_image',
      args: { prompt: 'a paper boat on a pond' },
      token,
    });
    const viewer = h.view.locator('[data-testid="viewer"][data-job-id]');
    await viewer.waitFor({ timeout: 20_000 });
    const first = await viewer.getAttribute('data-status');
    expect(['pending', 'running']).toContain(first);
    const frame = await h.frame();
    await frame.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await h.view.locator('[data-testid="job-status"][data-status="succeeded"]').waitFor({ timeout: 40_000 });
    expect(await frame.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await h.view.locator('[data-testid="output-1"][data-state="loaded"]').waitFor({ timeout: 20_000 });
    expect(await h.view.locator('[data-testid="cancel-button"]').count()).toBe(0);
    await h.page.close();
  }, 90_000);

  it("follows the host's theme: a dark host context gives a dark view", async () => {
    const jobId = await create('phaya_text_to_image', { prompt: 'a night market' });
    await finished(jobId);
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'jobs_get',
      args: { job_id: jobId },
      token,
      theme: 'dark',
    });
    await h.view.locator('[data-testid="output-1"][data-state="loaded"]').waitFor({ timeout: 20_000 });
    const frame = await h.frame();
    expect(await frame.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const bg = await frame.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    expect(r + g + b, bg).toBeLessThan(150);
    writeFileSync(join(SHOTS, 'viewer-dark.png'), await h.page.screenshot({ fullPage: true }));
    await h.page.close();
  }, 90_000);
});
