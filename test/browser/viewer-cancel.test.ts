/**
 * Cancel in the viewer: a running job shows a Cancel button; pressing it calls jobs_cancel through the
 * host and the view shows the job cancelled (no background worker here, so only the view moves the job).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openHost, type Harness } from '../helpers/browser.js';
import { spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';

let server: HttpServerProcess;
let browser: Harness;
let token: string;

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { frank: {} });
  token = t.tokens.frank;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir }, ['--sandbox', '--no-worker', '--tokens-file', t.file]);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('Cancel in the viewer', () => {
  it('cancels a running job with jobs_cancel and shows it cancelled', async () => {
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'phaya_seedance',
      args: { prompt: 'a slow sunrise', resolution: '480p', duration: '4' },
      token,
    });
    const viewer = h.view.locator('[data-testid="viewer"][data-job-id]');
    await viewer.waitFor({ timeout: 20_000 });
    expect(['pending', 'running']).toContain(await viewer.getAttribute('data-status'));
    // A poll re-renders the panel (its header is new): the Cancel button is the same element throughout,
    // so a click landing during a re-render is not lost on a discarded button.
    const frame = await h.frame();
    await frame.evaluate(() => {
      type Marked = Element & { marked?: boolean };
      (document.querySelector('[data-testid="cancel-button"]') as Marked).marked = true;
      (document.querySelector('[data-testid="viewer"] h1') as Marked).marked = true;
    });
    await frame.waitForFunction(
      () => !(document.querySelector('[data-testid="viewer"] h1') as (Element & { marked?: boolean }) | null)?.marked,
      undefined,
      { timeout: 20_000 },
    );
    expect(
      await frame.evaluate(
        () =>
          (document.querySelector('[data-testid="cancel-button"]') as (Element & { marked?: boolean }) | null)?.marked,
      ),
    ).toBe(true);
    await h.view.locator('[data-testid="cancel-button"]').click();
    await h.view.locator('[data-testid="job-status"][data-status="cancelled"]').waitFor({ timeout: 20_000 });
    expect(await h.view.locator('[data-testid="cancel-button"]').count()).toBe(0);
    await h.page.close();
  }, 90_000);
});
