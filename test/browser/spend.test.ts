/**
 * The spend view in real headless Chromium through the real host page, against a real HTTP server over
 * the sandbox gateway with real reservations (a job that succeeds, one that fails and is refunded, one
 * whose answer is lost): the SVG bars are there and carry spend_report's own figures, the caps, the
 * uncertain reservation with what to do and the refund are shown, and Refresh calls spend_report through
 * the host and redraws with the new spend.
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

const SHOTS = join(ROOT, 'test-output/screenshots');
const T2I = 'phaya_text_to_image';
let server: HttpServerProcess;
let client: HttpClient;
let browser: Harness;
let token: string;

const sc = (r: CallToolResult): Record<string, unknown> => (r.structuredContent ?? {}) as Record<string, unknown>;

interface Bar {
  day: string;
  committed: number;
  refunded: number;
  uncertain: number;
  reserved: number;
}
type Chart = { days: string[]; providers: { provider: string; days: Bar[] }[] };

/** Every non-zero figure of the chart as [provider, day, kind, credits], sorted. */
function figures(chart: Chart): string[] {
  return chart.providers
    .flatMap((p) =>
      p.days.flatMap((b) =>
        (['committed', 'uncertain', 'reserved', 'refunded'] as const)
          .filter((k) => b[k] > 0)
          .map((k) => `${p.provider} ${b.day} ${k} ${b[k]}`),
      ),
    )
    .sort();
}

async function finished(args: Record<string, unknown>): Promise<string> {
  const r = await client.call(T2I, args);
  expect(r.isError, text(r)).toBeFalsy();
  const id = sc(r).job_id as string;
  await client.call('jobs_wait', { job_id: id, wait_seconds: 30 });
  return id;
}

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { erin: {}, frank: {} });
  token = t.tokens.erin;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: '50' }, [
    '--sandbox',
    '--tokens-file',
    t.file,
    '--cap-day',
    'phaya=20',
  ]);
  client = await connectHttp(server.url, token);
  // Another principal's spend never shows in erin's view.
  const other = await connectHttp(server.url, t.tokens.frank);
  expect((await other.call(T2I, { prompt: "frank's own" })).isError).toBeFalsy();
  await other.close();
  await finished({ prompt: 'a red kite over hills' });
  await finished({ prompt: 'a lantern sandbox:fail' });
  const lost = await client.call(T2I, { prompt: 'a boat sandbox:5xx', idempotency_key: 'spend-browser-lost-1' });
  expect(sc(lost).code, text(lost)).toBe('OUTCOME_UNKNOWN');
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await server?.stop();
});

describe('the spend view in Chromium', () => {
  it('draws spend_report as SVG bars with its own figures, caps, the uncertain reservation and the refund', async () => {
    const before = Date.now();
    const report = await client.call('spend_report');
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'spend_report',
      token,
      viewport: { width: 860, height: 900 },
    });
    await h.view.locator('main[data-state="ready"]').waitFor({ timeout: 20_000 });
    const after = Date.now();
    const bars = h.view.locator('svg.chart rect.bar');
    expect(await bars.count()).toBe(3);
    const shown = await bars.evaluateAll((rs) =>
      rs.map(
        (r) =>
          `${r.closest('svg')?.getAttribute('data-provider')} ${r.getAttribute('data-day')} ${r.getAttribute('data-kind')} ${r.getAttribute('data-credits')}`,
      ),
    );
    expect(shown.sort()).toEqual(figures(sc(report).chart as Chart));
    // Today as the report saw it, between the UTC days of the moments around it.
    const today = (sc(report).chart as Chart).days.at(-1) ?? '';
    const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    expect(today >= utcDay(before) && today <= utcDay(after), today).toBe(true);
    expect(shown.sort()).toEqual([
      `phaya ${today} committed 1`,
      `phaya ${today} refunded 1`,
      `phaya ${today} uncertain 1`,
    ]);
    // Bars have a height: they were drawn, not just listed.
    const heights = await bars.evaluateAll((rs) => rs.map((r) => (r as SVGGraphicsElement).getBBox().height));
    for (const height of heights) expect(height).toBeGreaterThan(10);

    const caps = h.view.locator('table.caps tr[data-provider="phaya"][data-scope="day"]');
    expect(await caps.locator('td.used').textContent()).toBe('2');
    expect(await caps.locator('td.left').textContent()).toBe('18');
    expect(await caps.locator('td.cap').textContent()).toBe('20');
    const uncertain = sc(report).uncertain as { reservation: string; what_to_do: string }[];
    const row = h.view.locator(`ul.uncertain li[data-reservation="${uncertain[0].reservation}"]`);
    expect(await row.locator('.advice').textContent()).toBe(uncertain[0].what_to_do);
    const refunds = sc(report).refunds as { reservation: string }[];
    expect(await h.view.locator('table.refunds tr').count()).toBe(1);
    await h.view.locator(`table.refunds tr[data-reservation="${refunds[0].reservation}"]`).waitFor();

    await h.view.locator('table.refunds').waitFor({ state: 'visible' });
    expect(await h.view.locator('p.refunds-total').textContent()).toBe(
      '1 refunded in the last 30 days (by refund time): 1 credits given back.',
    );
    expect(await h.view.locator('section.provider[data-provider="phaya"] p.totals').textContent()).toMatch(
      /^Last 30 days \(by reservation day\): /,
    );
    const shot = await h.page.screenshot({ fullPage: true });
    expect(pixelVariance(shot)).toBeGreaterThan(10);
    writeFileSync(join(SHOTS, 'spend.png'), shot);

    // Refresh goes through the host to spend_report and redraws with the new spend.
    await finished({ prompt: 'a blue door' });
    await h.view.locator('#refresh').click();
    await h.view.locator(`svg.chart rect.bar.committed[data-credits="2"]`).waitFor({ timeout: 20_000 });
    const again = await client.call('spend_report');
    const redrawn = await bars.evaluateAll((rs) =>
      rs.map(
        (r) =>
          `${r.closest('svg')?.getAttribute('data-provider')} ${r.getAttribute('data-day')} ${r.getAttribute('data-kind')} ${r.getAttribute('data-credits')}`,
      ),
    );
    expect(redrawn.sort()).toEqual(figures(sc(again).chart as Chart));
    await h.page.close();
  }, 90_000);
});
