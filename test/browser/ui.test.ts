/**
 * `mediagen-mcp ui` in real headless Chromium: the built command over a state folder a stdio server wrote
 * (sandbox gateway on loopback). Its start page loads at the address it printed, its Gallery link opens
 * the host page it serves, which shows the same jobs as jobs_list, and its Spend link shows the spend view;
 * without the token the browser gets nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Page } from 'playwright-core';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { launchBrowser, type Harness } from '../helpers/browser.js';
import { phayaEnv, sc, T2I } from '../helpers/money.js';
import { spawnStdio, text } from '../helpers/stdio.js';
import { connectUi, spawnUi, type UiProcess } from '../helpers/ui.js';

let sandbox: Sandbox;
let ui: UiProcess;
let client: Client;
let browser: Harness;
const ids: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 1 });
  const env = phayaEnv(sandbox, { MEDIAGEN_WORKER: '0' });
  const s = await spawnStdio(env);
  for (const prompt of ['a red kite', 'a blue door', 'a lantern sandbox:fail']) {
    const r = await s.call(T2I, { prompt });
    expect(r.isError, text(r)).toBeFalsy();
    ids.push(sc(r).job_id as string);
    await s.call('jobs_wait', { job_id: sc(r).job_id, wait_seconds: 20 });
  }
  await s.close();
  ui = await spawnUi(env);
  client = await connectUi(ui);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await ui?.stop();
  await sandbox?.close();
});

async function newPage(): Promise<{ page: Page; logs: string[] }> {
  const context = await browser.browser.newContext({ viewport: { width: 900, height: 800 } });
  await context.grantPermissions(['local-network-access']);
  const page = await context.newPage();
  page.on('close', () => void context.close().catch(() => undefined));
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return { page, logs };
}

async function hostReady(page: Page, logs: string[]): Promise<void> {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), undefined, {
    timeout: 30_000,
  });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state === 'error') throw new Error(`${await page.locator('#host-error').textContent()}\n${logs.join('\n')}`);
}

describe('mediagen-mcp ui in Chromium', () => {
  it('its gallery shows the same jobs as jobs_list', async () => {
    const listed = (await client.callTool({ name: 'jobs_list', arguments: {} })) as CallToolResult;
    const expected = (sc(listed).jobs as { job_id: string }[]).map((j) => j.job_id);
    expect([...expected].sort()).toEqual([...ids].sort());
    const { page, logs } = await newPage();
    const start = await page.goto(ui.url);
    expect(start?.status()).toBe(200);
    await page.getByRole('link', { name: 'Gallery' }).click();
    await hostReady(page, logs);
    expect(new URL(page.url()).pathname).toBe(`/${ui.token}/host.html`);
    const view = page.frameLocator('#view');
    const items = view.locator('[data-testid="gallery-item"]');
    await items.nth(expected.length - 1).waitFor({ timeout: 20_000 });
    expect(await items.count()).toBe(expected.length);
    expect(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-job-id')))).toEqual(expected);
    await page.close();
  }, 90_000);

  it('its spend view shows the same figures as spend_report', async () => {
    const before = Date.now();
    const report = (await client.callTool({ name: 'spend_report', arguments: {} })) as CallToolResult;
    const after = Date.now();
    const { page, logs } = await newPage();
    await page.goto(ui.url);
    await page.getByRole('link', { name: 'Spend' }).click();
    await hostReady(page, logs);
    const view = page.frameLocator('#view');
    await view.locator('main[data-state="ready"]').waitFor({ timeout: 20_000 });
    const bars = await view
      .locator('svg.chart rect.bar')
      .evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-kind')} ${r.getAttribute('data-credits')}`));
    expect(bars.sort()).toEqual(['committed 2', 'refunded 1']);
    const phaya = (sc(report).chart as { providers: { provider: string; days: Record<string, unknown>[] }[] })
      .providers[0];
    // Today as the report saw it, between the UTC days of the moments around the call.
    const today = (sc(report).chart as { days: string[] }).days.at(-1) ?? '';
    const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    expect(today >= utcDay(before) && today <= utcDay(after), today).toBe(true);
    expect(phaya.days.at(-1)).toMatchObject({ day: today, committed: 2, refunded: 1 });
    await page.close();
  }, 90_000);

  it('gives a browser nothing without the token', async () => {
    const { page } = await newPage();
    const bare = await page.goto(`http://127.0.0.1:${ui.port}/`);
    expect(bare?.status()).toBe(401);
    const wrong = await page.goto(`http://127.0.0.1:${ui.port}/not-the-token/host.html?tool=jobs_list`);
    expect(wrong?.status()).toBe(403);
    await page.close();
  }, 90_000);
});
