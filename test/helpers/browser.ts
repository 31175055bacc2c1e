/**
 * Real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser download)
 * showing the views through the real host page (dist/views/host.html) against a real mediagen HTTP
 * server. The host page is opened AT THE SERVER'S OWN ORIGIN (that one URL is fulfilled from the built
 * file with page.route), so its /mcp requests are same-origin and pass the server's Origin check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type FrameLocator, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { ROOT } from './paths.js';

/** Debian's Chromium, or the one CI names (MEDIAGEN_CHROMIUM). */
export const CHROMIUM = process.env.MEDIAGEN_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The path the host page is served at on the server's origin (the server itself never serves it). */
export const HOST_PATH = '/__mediagen_test_host.html';

export interface Harness {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Launch Chromium. playwright-core gives every launch a fresh --user-data-dir of its own (a new temporary
 * profile, removed when the browser closes; it refuses the flag in args).
 */
export async function launchBrowser(): Promise<Harness> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
  return { browser, close: () => browser.close().catch(() => undefined) };
}

export interface HostOptions {
  /** The server's MCP URL (http://127.0.0.1:PORT/mcp). */
  mcpUrl: string;
  tool: string;
  args?: Record<string, unknown>;
  token?: string;
  theme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
  /** Run on the page before it opens the host (e.g. page.route for what it fetches). */
  beforeOpen?: (page: Page) => Promise<unknown>;
}

export interface HostedView {
  page: Page;
  /** The view's iframe, for locators. */
  view: FrameLocator;
  /** The view's frame, for evaluate (its document). */
  frame(): Promise<Frame>;
  /** Console lines of the page and the view (for failure messages). */
  logs: string[];
}

/** The host page's URL on the server's origin for a tool call (the token in the fragment). */
export function hostUrl(o: HostOptions): string {
  const origin = new URL(o.mcpUrl).origin;
  const q = new URLSearchParams({ tool: o.tool, args: JSON.stringify(o.args ?? {}) });
  if (o.theme) q.set('theme', o.theme);
  return `${origin}${HOST_PATH}?${q}${o.token ? `#token=${encodeURIComponent(o.token)}` : ''}`;
}

/** Open the host page calling `tool` and wait until the host says it is ready (or failed). */
export async function openHost(h: Harness, o: HostOptions): Promise<HostedView> {
  const context = await h.browser.newContext({ viewport: o.viewport ?? { width: 900, height: 900 } });
  // Chromium asks the person before a page reaches a loopback address (Local Network Access); the sandbox's
  // media are on loopback, so the test grants what a person would (real result hosts are public).
  await context.grantPermissions(['local-network-access']);
  const page = await context.newPage();
  page.on('close', () => void context.close().catch(() => undefined));
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => logs.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  const html = readFileSync(join(ROOT, 'dist/views/host.html'));
  await page.route(
    (url) => url.pathname === HOST_PATH,
    (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
  );
  await o.beforeOpen?.(page);
  await page.goto(hostUrl(o));
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), undefined, {
    timeout: 30_000,
  });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state === 'error')
    throw new Error(`host page failed: ${await page.locator('#host-error').textContent()}\n${logs.join('\n')}`);
  return {
    page,
    view: page.frameLocator('#view'),
    frame: async () => {
      const el = await page.$('#view');
      const f = await el?.contentFrame();
      if (!f) throw new Error('no view frame');
      return f;
    },
    logs,
  };
}

/**
 * A tools/call the view itself sends to its host (a JSON-RPC request over the view's postMessage channel,
 * as its App does): the host's answer, a CallToolResult or a JSON-RPC error.
 */
export async function viewCall(
  frame: Frame,
  name: string,
  args: Record<string, unknown>,
): Promise<{
  result?: { isError?: boolean; content?: { type: string; text?: string }[] };
  error?: { message: string };
}> {
  return frame.evaluate(
    ({ name, args }) =>
      new Promise((resolve) => {
        const id = `test-${Math.random()}`;
        const onMessage = (e: MessageEvent): void => {
          const m = e.data as { id?: unknown };
          if (e.source !== window.parent || m?.id !== id) return;
          window.removeEventListener('message', onMessage);
          resolve(m as never);
        };
        window.addEventListener('message', onMessage);
        window.parent.postMessage({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, '*');
      }),
    { name, args },
  );
}

/** Per-channel variance of a PNG's pixels (0 for a blank, single-colour image). */
export function pixelVariance(png: Buffer): number {
  const img = PNG.sync.read(png);
  const n = img.width * img.height;
  let total = 0;
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = img.data[i * 4 + c];
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    total += sq / n - mean * mean;
  }
  return total / 3;
}
