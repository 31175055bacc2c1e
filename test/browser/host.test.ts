/**
 * The host page enforces tool visibility (SEP-1865) against a real server: it does not call, as the
 * model would, a tool whose visibility lacks "model", and it refuses a view's call of a tool whose
 * visibility lacks "app". The server's tools/list is the real one with one tool's visibility rewritten on
 * its way to the page (no tool on this server is app-only or model-only by itself).
 */
import type { Page } from 'playwright-core';
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
import { text } from '../helpers/stdio.js';

let server: HttpServerProcess;
let client: HttpClient;
let browser: Harness;
let token: string;

/** Rewrite `tool`'s visibility in the tools/list answers the page gets; record the tools/call names it sends. */
async function withVisibility(page: Page, tool: string, visibility: string[], calls: string[]): Promise<void> {
  await page.route(
    (url) => url.pathname === '/mcp',
    async (route) => {
      // The GET event stream stays open: only POSTed requests are read here.
      if (route.request().method() !== 'POST') return route.continue();
      const sent = route.request().postData() ?? '';
      const body = (sent ? JSON.parse(sent) : {}) as { method?: string; params?: { name?: string } };
      if (body.method === 'tools/call') calls.push(body.params?.name ?? '');
      const res = await route.fetch();
      if (body.method !== 'tools/list') return route.fulfill({ response: res }).catch(() => undefined);
      const rewrite = (json: string): string => {
        const msg = JSON.parse(json) as { result?: { tools?: { name: string; _meta?: Record<string, unknown> }[] } };
        for (const t of msg.result?.tools ?? [])
          if (t.name === tool) t._meta = { ...t._meta, ui: { ...((t._meta?.ui as object) ?? {}), visibility } };
        return JSON.stringify(msg);
      };
      const raw = await res.text();
      const out = /event-stream/.test(res.headers()['content-type'] ?? '')
        ? raw.replace(/^data: (.*)$/gm, (_m, d: string) => `data: ${rewrite(d)}`)
        : rewrite(raw);
      return route.fulfill({ response: res, body: out }).catch(() => undefined);
    },
  );
}

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { hana: {} });
  token = t.tokens.hana;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir }, ['--sandbox', '--no-worker', '--tokens-file', t.file]);
  client = await connectHttp(server.url, token);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await server?.stop();
});

describe.sequential('the host page and tool visibility', () => {
  it('refuses to call as the model a tool whose visibility lacks "model" (no tools/call sent)', async () => {
    const calls: string[] = [];
    const opened = openHost(browser, {
      mcpUrl: server.url,
      tool: 'jobs_list',
      token,
      beforeOpen: (page) => withVisibility(page, 'jobs_list', ['app'], calls),
    });
    await expect(opened).rejects.toThrow(/jobs_list is callable only from a view/);
    expect(calls).toEqual([]);
  }, 90_000);

  it('refuses a view\'s call of a tool whose visibility lacks "app": the viewer\'s poll never reaches the server', async () => {
    const r = await client.call('phaya_text_to_image', { prompt: 'a lantern in fog' });
    expect(r.isError, text(r)).toBeFalsy();
    const jobId = (r.structuredContent as { job_id: string }).job_id;
    const calls: string[] = [];
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'jobs_get',
      args: { job_id: jobId },
      token,
      beforeOpen: (page) => withVisibility(page, 'jobs_get', ['model'], calls),
    });
    // The host's own call went through; the view's poll (jobs_get, 2 s later) is refused by the host.
    await h.view
      .locator('[data-testid="job-error"]', { hasText: 'jobs_get is not callable from a view' })
      .waitFor({ timeout: 30_000 });
    expect(calls).toEqual(['jobs_get']);
    await h.page.close();
  }, 90_000);
});
