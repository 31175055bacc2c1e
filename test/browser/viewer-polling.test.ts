/**
 * The viewer's polling costs provider requests (each jobs_get of an open job is one status request), so
 * it follows the ledger's interval (`poll_after_ms`): with no background worker, every status request the
 * sandbox sees is the view's; they come no faster than the interval, and none after the job is final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openHost, type Harness } from '../helpers/browser.js';
import { spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';

const INTERVAL_MS = 3_000;
let server: HttpServerProcess;
let browser: Harness;
let token: string;

/** The in-process sandbox's status requests (arrival times), read over its HTTP stats endpoint. */
async function statusTimes(): Promise<number[]> {
  const base = /provider points at (http:\/\/\S+) with/.exec(server.stderr())?.[1];
  if (!base) throw new Error(`no sandbox URL in the server's log:\n${server.stderr()}`);
  const stats = (await (await fetch(`${base}/_sandbox/stats`)).json()) as {
    requests: { method: string; path: string; at: number }[];
  };
  return stats.requests.filter((r) => r.method === 'GET' && /\/status\//.test(r.path)).map((r) => r.at);
}

beforeAll(async () => {
  const dir = tempDir();
  const t = writeTokens(dir, { gina: {} });
  token = t.tokens.gina;
  server = await spawnHttp({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_POLL_MS: String(INTERVAL_MS) }, [
    '--sandbox',
    '--no-worker',
    '--tokens-file',
    t.file,
  ]);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the viewer polls at the ledger interval', () => {
  it('asks the provider no faster than poll_after_ms, and never again once the job is final', async () => {
    const h = await openHost(browser, {
      mcpUrl: server.url,
      tool: 'phaya_text_to_image',
      args: { prompt: 'a kite over dunes' },
      token,
    });
    await h.view.locator('[data-testid="viewer"][data-job-id]').waitFor({ timeout: 20_000 });
    await h.view.locator('[data-testid="job-status"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    const atFinal = await statusTimes();
    expect(atFinal.length).toBeGreaterThan(0);
    // A poll is scheduled only after the previous one was answered: gaps are at least the interval.
    for (let i = 1; i < atFinal.length; i++)
      expect(atFinal[i] - atFinal[i - 1], JSON.stringify(atFinal)).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    // Final: the view stops (two intervals and more with the view open add no request).
    await h.page.waitForTimeout(2.5 * INTERVAL_MS);
    expect(await statusTimes()).toEqual(atFinal);
    await h.page.close();
  }, 90_000);
});
