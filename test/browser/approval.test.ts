/**
 * Consent a person clicks, in real headless Chromium through the real host page, against a real server over
 * Streamable HTTP and the sandbox (which counts every provider request): the viewer in approval mode; its
 * Approve makes exactly one provider request and the view shows the job; Decline makes none; a second
 * Approve of the same approval makes none.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { APPROVE_TOOL } from '../../src/views/uris.js';
import { launchBrowser, openHost, pixelVariance, viewCall, type Harness } from '../helpers/browser.js';
import { spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { hits as allHits, phayaEnv } from '../helpers/money.js';
import { ROOT } from '../helpers/paths.js';

/** Screenshots every run writes (the best are copied by hand into docs/screenshots/ for the README). */
const SHOTS = join(ROOT, 'test-output/screenshots');
const SORA = 'phaya_sora2_text_to_video';
const SORA_PATH = '/phaya/api/v1/sora2-text-to-video/create';

let sandbox: Sandbox;
let server: HttpServerProcess;
let browser: Harness;
let token: string;
let before = 0;
const sent = (): number => allHits(sandbox, SORA_PATH) - before;

beforeAll(async () => {
  sandbox = await startSandbox();
  const dir = tempDir();
  const t = writeTokens(dir, { alice: {} });
  token = t.tokens.alice;
  server = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir }), ['--tokens-file', t.file]);
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await sandbox?.close();
});
beforeEach(() => {
  before = allHits(sandbox, SORA_PATH);
});

/** The host page calling the paid tool: the viewer shows the pending approval. */
async function asked(prompt: string) {
  const h = await openHost(browser, { mcpUrl: server.url, tool: SORA, args: { prompt }, token });
  const panel = h.view.locator('[data-testid="approval"]');
  await panel.waitFor({ timeout: 20_000 });
  return { h, panel, id: (await panel.getAttribute('data-approval-id')) ?? '' };
}

describe('the approval view in Chromium', () => {
  it('Approve makes exactly one provider request and the view shows the job; a second Approve makes none', async () => {
    const { h, panel, id } = await asked('a paper boat on a pond at dawn');
    expect(id).toMatch(/^ap_/);
    expect(await h.view.locator('[data-testid="approval-tool"]').textContent()).toBe(SORA);
    expect(await h.view.locator('[data-testid="approval-price"]').textContent()).toBe('8 credits');
    expect(await h.view.locator('[data-testid="approval-args"]').textContent()).toContain('a paper boat');
    const shot = await h.page.locator('#view').screenshot();
    writeFileSync(join(SHOTS, 'approval.png'), shot);
    expect(pixelVariance(shot)).toBeGreaterThan(50);
    expect(sent()).toBe(0);

    await h.view.locator('[data-testid="approve-button"]').click();
    await h.view.locator('[data-testid="job-status"]').waitFor({ timeout: 20_000 });
    expect(await panel.count()).toBe(0);
    expect(sent(), h.logs.join('\n')).toBe(1);

    // The same approval approved again, by the view (the only caller an app-only tool has): refused, nothing sent.
    const again = await viewCall(await h.frame(), APPROVE_TOOL, { approval_id: id, decision: 'approve' });
    expect(again.result?.content?.[0]?.text ?? '').toMatch(/^APPROVAL_INVALID: .*already used/);
    expect(sent()).toBe(1);
    await h.page.close();

    // The host page never calls the app-only tool as if the model did (visibility ["app"]).
    await expect(
      openHost(browser, {
        mcpUrl: server.url,
        tool: APPROVE_TOOL,
        args: { approval_id: id, decision: 'approve' },
        token,
      }),
    ).rejects.toThrow(/callable only from a view/);
    expect(sent()).toBe(1);
  }, 90_000);

  it('Decline makes no provider request and says nothing was charged', async () => {
    const { h, id } = await asked('a declined lantern');
    await h.view.locator('[data-testid="decline-button"]').click();
    const outcome = h.view.locator('[data-testid="approval-outcome"][data-outcome="declined"]');
    await outcome.waitFor({ timeout: 20_000 });
    expect(await outcome.textContent()).toMatch(/nothing was sent or charged/i);
    const late = await viewCall(await h.frame(), APPROVE_TOOL, { approval_id: id, decision: 'approve' });
    expect(late.result?.content?.[0]?.text ?? '').toMatch(/^APPROVAL_INVALID: .*declined/);
    await h.page.close();
    expect(sent()).toBe(0);
  }, 90_000);
});
