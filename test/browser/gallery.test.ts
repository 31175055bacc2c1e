/**
 * The gallery in real headless Chromium through the real host page: N jobs created give N cards, newest
 * first, the kind filter narrows them, and a click opens the job in the viewer within the same view.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { ROOT } from '../helpers/paths.js';
import { text } from '../helpers/stdio.js';

/** Screenshots every run writes (the best are copied by hand into docs/screenshots/ for the README). */
const SHOTS = join(ROOT, 'test-output/screenshots');
let server: HttpServerProcess;
let client: HttpClient;
let browser: Harness;
let token: string;

async function created(tool: string, args: Record<string, unknown>): Promise<string> {
  let r = await client.call(tool, args);
  const confirm = (r.structuredContent as { confirm_token?: string } | undefined)?.confirm_token;
  if (confirm) r = await client.call(tool, { ...args, confirm_token: confirm });
  expect(r.isError, text(r)).toBeFalsy();
  const id = (r.structuredContent as { job_id: string }).job_id;
  const done = await client.call('jobs_wait', { job_id: id, wait_seconds: 30 });
  expect((done.structuredContent as { status: string }).status, text(done)).toBe('succeeded');
  return id;
}

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { carol: {}, dave: {} });
  token = t.tokens.carol;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50' }, ['--sandbox', '--tokens-file', t.file]);
  client = await connectHttp(server.url, token);
  // Another principal's job never shows in carol's gallery.
  const other = await connectHttp(server.url, t.tokens.dave);
  expect((await other.call('phaya_text_to_image', { prompt: "dave's own" })).isError).toBeFalsy();
  await other.close();
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await server?.stop();
});

describe('the gallery in Chromium', () => {
  it('shows N cards for N jobs, newest first; filters by kind; a click opens the job in the viewer', async () => {
    const ids = [
      await created('phaya_text_to_image', { prompt: 'a red kite over hills' }),
      await created('phaya_seedance', { prompt: 'rain on a window' }),
      await created('phaya_text_to_image', { prompt: 'a blue door in a white wall' }),
    ];
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'jobs_list',
      token,
      viewport: { width: 900, height: 700 },
    });
    const items = h.view.locator('[data-testid="gallery-item"]');
    await items.nth(ids.length - 1).waitFor({ timeout: 20_000 });
    expect(await items.count()).toBe(ids.length);
    const order = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-job-id')));
    expect(order).toEqual([...ids].reverse());
    await h.view.locator('img.thumb').first().waitFor({ timeout: 10_000 });
    await h.page.waitForTimeout(300);
    writeFileSync(join(SHOTS, 'gallery.png'), await h.page.screenshot({ fullPage: true }));

    await h.view.locator('[data-testid="filter-kind"]').selectOption('video');
    expect(await items.count()).toBe(1);
    expect(await items.first().getAttribute('data-job-id')).toBe(ids[1]);
    await h.view.locator('[data-testid="filter-kind"]').selectOption('');
    expect(await items.count()).toBe(ids.length);

    await h.view.locator(`[data-testid="gallery-item"][data-job-id="${ids[2]}"]`).click();
    const viewer = h.view.locator(`[data-testid="viewer"][data-job-id="${ids[2]}"]`);
    await viewer.locator('[data-testid="job-status"][data-status="succeeded"]').waitFor({ timeout: 20_000 });
    expect(await viewer.locator('[data-testid="job-prompt"]').textContent()).toContain('a blue door');
    await viewer.locator('[data-testid="output-1"][data-state="loaded"]').waitFor({ timeout: 20_000 });
    await h.view.locator('[data-testid="gallery-back"]').click();
    await h.view.locator('[data-testid="gallery-grid"]').waitFor({ state: 'visible' });
    await h.page.close();
  }, 90_000);

  it('a job answered after Back is not shown in the hidden panel', async () => {
    const id = await created('phaya_text_to_image', { prompt: 'a slow answer' });
    let answered!: () => void;
    const delivered = new Promise<void>((r) => (answered = r));
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'jobs_list',
      token,
      // The view's jobs_get is answered 2 s late, after the person went Back.
      beforeOpen: (page) =>
        page.route(
          (url) => url.pathname === '/mcp',
          async (route) => {
            const body = route.request().method() === 'POST' ? (route.request().postData() ?? '') : '';
            if (!/"method":"tools\/call"/.test(body) || !body.includes('"jobs_get"')) return route.continue();
            const res = await route.fetch();
            await new Promise((r) => setTimeout(r, 2_000));
            await route.fulfill({ response: res }).catch(() => undefined);
            answered();
          },
        ),
    });
    await h.view.locator(`[data-testid="gallery-item"][data-job-id="${id}"]`).click();
    await h.view.locator('[data-testid="gallery-back"]').click();
    await h.view.locator('[data-testid="gallery-grid"]').waitFor({ state: 'visible' });
    await delivered;
    await h.page.waitForTimeout(500);
    expect(await h.view.locator('[data-testid="viewer"][data-job-id]').count()).toBe(0);
    expect(await h.view.locator('[data-testid="gallery-back"]').isVisible()).toBe(false);
    await h.page.close();
  }, 90_000);
});
