/**
 * Observed prices end to end against the sandbox: Media.io publishes no prices; its sandbox charges
 * `sandbox:charge<N>` credits from the balance (`/user/credits`) when a job completes. Each test has its
 * own sandbox (balance 1000) and a clock it can move past the overlap margins between lone jobs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOCK_MARGIN_MS, exportOverlay, SETTLE_MS } from '../../src/guard/observed.js';
import { loadPriceOverlay } from '../../src/catalogue/prices.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectInMemory } from '../helpers/in-memory.js';
import { callConfirmed } from '../helpers/sandboxed.js';
import { startRewritingProxy } from '../helpers/rewriting-proxy.js';

let sandbox: Sandbox;
const closers: (() => Promise<void>)[] = [];
/** The servers' clock runs this far ahead of the real one (moved on between lone jobs). */
let ahead = 0;
const now = () => Date.now() + ahead;
/** Past the margin within which another job's end still counts as overlap. */
const later = (ms = CLOCK_MARGIN_MS + 1) => {
  ahead += ms;
};

beforeEach(async () => {
  ahead = 0;
  sandbox = await startSandbox({ pollsToComplete: 1 });
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  await sandbox.close();
});

const TOOL = 'mediaio_t2i_imagen_4';
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const text = (r: CallToolResult) => (r.content as { text: string }[]).map((c) => c.text).join('\n');
const TODAY = new Date().toISOString().slice(0, 10);
/** Creates the Media.io sandbox received (a consent-refused call sends none). */
const creates = () => sandbox.stats().byRoute['mediaio POST /generation/{vendor}/{model_code}'] ?? 0;

async function connect(argv: string[] = [], via: (base: string) => string = (b) => b) {
  const c = await connectInMemory(argv, {}, { baseUrl: (p, d) => via(sandbox.baseUrl(p, d)), key: sandbox.key, now });
  closers.push(c.close);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await c.client.callTool({ name, arguments: args })) as CallToolResult;
  /** The call, approved by the user. */
  const confirmed = async (args: Record<string, unknown>): Promise<CallToolResult> => {
    const first = await call(TOOL, args);
    const token = sc(first).confirm_token as string;
    expect(token, text(first)).toMatch(/^ct_/);
    return call(TOOL, { ...args, confirm_token: token });
  };
  /** A confirmed create; returns the job id. */
  const create = async (args: Record<string, unknown>): Promise<string> => {
    const r = await confirmed(args);
    expect(r.isError, text(r)).toBeFalsy();
    return sc(r).job_id as string;
  };
  const wait = async (id: string) => {
    const r = await call('jobs_wait', { job_id: id });
    expect(r.isError, text(r)).toBeFalsy();
    return sc(r);
  };
  /** `n` lone jobs one after the other, each observed; returns nothing. */
  const seed = async (n: number, prompt: string, args: Record<string, unknown> = {}) => {
    for (let i = 0; i < n; i++) {
      later();
      expect((await wait(await create({ prompt, ...args }))).status).toBe('succeeded');
    }
  };
  return { ...c, call, confirmed, create, wait, seed };
}

describe('observed prices', () => {
  it('records balance before − after of a lone job, and quote, consent and models show it', async () => {
    const s = await connect();
    const id = await s.create({ prompt: 'a fox sandbox:charge12', counts: '2' });
    expect((await s.wait(id)).status).toBe('succeeded');
    const seen = await s.app.store.listObservations();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ provider: 'mediaio', tool: TOOL, credits: 12 });
    expect(JSON.parse(seen[0].priceKey)).toMatchObject({ counts: '2' });

    const q = await s.call('quote', { tool: TOOL, arguments: { prompt: 'another', counts: '2' } });
    expect(text(q)).toContain(`unknown; last observed 12 credits (1 observation, latest ${TODAY})`);
    expect(sc(q).price).toMatchObject({ kind: 'unknown', observed: { latest: 12, max: 12, count: 1 } });
    expect(sc(q).consent).toMatchObject({ needed: true });
    // Another price key (counts 1) has no observation.
    expect(text(await s.call('quote', { tool: TOOL, arguments: { prompt: 'x', counts: '1' } }))).not.toContain(
      'observed',
    );

    // Consent is still asked by default, and its text carries the observation.
    const before = sandbox.stats().total;
    const ask = await s.call(TOOL, { prompt: 'again', counts: '2' });
    expect(sc(ask)).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    expect(sc(ask).price).toContain('unknown; last observed 12 credits');
    expect(sandbox.stats().total).toBe(before);

    const m = await s.call('models', { family: 'imagen', arguments: { counts: '2' } });
    expect(text(m)).toContain('last observed 12 credits');
  });

  it('records nothing for a failed job or when two jobs of the provider overlap', async () => {
    const s = await connect();
    const failed = await s.create({ prompt: 'sandbox:fail sandbox:charge9' });
    expect(sc(await s.call('jobs_wait', { job_id: failed })).code).toBe('JOB_FAILED');
    const a = await s.create({ prompt: 'one sandbox:charge5' });
    const b = await s.create({ prompt: 'two sandbox:charge7' });
    await s.wait(b);
    await s.wait(a);
    expect(await s.app.store.listObservations()).toEqual([]);
    // Once alone again (past the late-refund margin of the failed job), a job is observed.
    later(SETTLE_MS + CLOCK_MARGIN_MS);
    const c = await s.create({ prompt: 'three sandbox:charge3' });
    await s.wait(c);
    expect((await s.app.store.listObservations()).map((o) => o.credits)).toEqual([3]);
  });

  it('under a cap, an unknown price reserves the observed max, or --unknown-price-reserve, else is refused', async () => {
    const refused = await connect(['--cap-session', 'mediaio=30']);
    expect(sc(await refused.confirmed({ prompt: 'x', counts: '2' })).code).toBe('BUDGET_EXCEEDED');

    const s = await connect(['--cap-session', 'mediaio=30', '--unknown-price-reserve', '1']);
    await s.wait(await s.create({ prompt: 'first sandbox:charge12', counts: '2' }));
    await s.wait(await s.create({ prompt: 'second sandbox:charge12', counts: '2' }));
    const reserved = (await s.app.store.recentSpend(10)).map((r) => r.credits).reverse();
    expect(reserved).toEqual([1, 12]); // no observation yet: the default; then the observed 12
    await s.create({ prompt: 'third', counts: '2' }); // 1 + 12 + 12 = 25 of 30
    const over = await s.confirmed({ prompt: 'fourth', counts: '2' });
    expect(sc(over)).toMatchObject({ code: 'BUDGET_EXCEEDED', needed: 12 });
  });

  it('observed prices never skip consent unless --trust-observed-prices, and then only below the threshold', async () => {
    const plain = await connect(['--confirm-above', 'mediaio=20']);
    await plain.seed(3, 'seed sandbox:charge12', { counts: '2' });
    expect(sc(await plain.call(TOOL, { prompt: 'y', counts: '2' })).code).toBe('CONFIRMATION_REQUIRED');

    const trusting = await connect(['--trust-observed-prices', '--confirm-above', 'mediaio=20']);
    await trusting.seed(3, 'seed sandbox:charge12', { counts: '2' });
    const q = sc(await trusting.call('quote', { tool: TOOL, arguments: { prompt: 'y', counts: '2' } }));
    expect(q.consent).toMatchObject({ needed: false });
    const before = sandbox.stats().total;
    const r = await trusting.call(TOOL, { prompt: 'y', counts: '2' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r).job_id).toMatch(/^job_/);
    expect(sandbox.stats().total).toBeGreaterThan(before);
    // At or above the threshold it still asks; an unobserved price key still asks.
    const strict = await connect(['--trust-observed-prices', '--confirm-above', 'mediaio=10']);
    await strict.seed(3, 'seed sandbox:charge12', { counts: '2' });
    expect(sc(await strict.call(TOOL, { prompt: 'y', counts: '2' })).code).toBe('CONFIRMATION_REQUIRED');
    expect(sc(await trusting.call(TOOL, { prompt: 'y', counts: '3' })).code).toBe('CONFIRMATION_REQUIRED');
  });

  it('one low observation (a refund landing between the reads) never lets a call skip consent', async () => {
    const s = await connect(['--trust-observed-prices', '--confirm-above', 'mediaio=20']);
    await s.seed(1, 'refund landed sandbox:charge1', { counts: '2' });
    expect((await s.app.store.listObservations()).map((o) => o.credits)).toEqual([1]);
    const q = sc(await s.call('quote', { tool: TOOL, arguments: { prompt: 'y', counts: '2' } }));
    expect(q.consent).toMatchObject({ needed: true });
    expect(JSON.stringify(q.consent)).toContain('3 needed');
    const before = sandbox.stats().total;
    for (let i = 0; i < 5; i++)
      expect(sc(await s.call(TOOL, { prompt: `try ${i}`, counts: '2' })).code).toBe('CONFIRMATION_REQUIRED');
    expect(sandbox.stats().total).toBe(before);
    // Two true figures later the low one is an outlier, and three kept are needed: still asked.
    await s.seed(2, 'true price sandbox:charge12', { counts: '2' });
    const sent = creates();
    expect(sc(await s.call(TOOL, { prompt: 'still', counts: '2' })).code).toBe('CONFIRMATION_REQUIRED');
    expect(creates()).toBe(sent);
    // A third true figure: three kept, the highest (12) is below 20, and the call runs unasked.
    await s.seed(1, 'true price sandbox:charge12', { counts: '2' });
    const r = await s.call(TOOL, { prompt: 'now', counts: '2' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(creates()).toBe(sent + 2);
  });

  it('an outlier high observation does not poison the cap; it reserves the highest kept figure', async () => {
    const s = await connect(['--cap-session', 'mediaio=60', '--unknown-price-reserve', '1']);
    await s.seed(3, 'normal sandbox:charge5', { counts: '1' });
    // Another use of the account lands between the reads of a lone job: 900 is observed.
    await s.seed(1, 'someone else spent sandbox:charge900', { counts: '1' });
    expect((await s.app.store.listObservations()).map((o) => o.credits)).toEqual([5, 5, 5, 900]);
    const q = sc(await s.call('quote', { tool: TOOL, arguments: { prompt: 'next', counts: '1' } }));
    // quote says what the guard makes of them: the cap reserves the highest kept figure, 900 is set aside.
    expect(q.price).toMatchObject({
      observed: { max: 900, count: 4, cap_reserves: 5, trusted_figure: 5, outliers_set_aside: 1 },
    });
    later();
    const before = sandbox.stats().total;
    const r = await s.confirmed({ prompt: 'next', counts: '1' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(sandbox.stats().total).toBeGreaterThan(before);
    const reserved = (await s.app.store.recentSpend(10)).map((x) => x.credits).reverse();
    expect(reserved).toEqual([1, 5, 5, 5, 5]);
  });

  it('a balance that is not a plain decimal ("0x3e8") is never read as a number', async () => {
    const hex = (path: string, json: unknown) => {
      const data = (json as { data?: { credits?: unknown } }).data;
      if (path.endsWith('/user/credits') && typeof data?.credits === 'number')
        data.credits = `0x${data.credits.toString(16)}`;
      return json;
    };
    const proxy = await startRewritingProxy(sandbox.baseUrl('mediaio', 'https://openapi.media.io'), hex);
    closers.push(proxy.close);
    const s = await connect([], proxy.via);
    const before = sandbox.stats().total;
    await s.seed(1, 'hex balance sandbox:charge12', { counts: '2' });
    expect(
      sandbox
        .stats()
        .requests.slice(before)
        .map((x) => x.path),
    ).toContain('/mediaio/user/credits');
    expect(await s.app.store.listObservations()).toEqual([]);
    expect(text(await s.call('quote', { tool: TOOL, arguments: { prompt: 'x', counts: '2' } }))).not.toContain(
      'observed',
    );
  });

  it('a charged amount that is not a plain decimal ("0x64") is not committed as 100', async () => {
    const hex = (path: string, json: unknown) => {
      const o = json as { credits_used?: unknown };
      if (path.endsWith('/phaya-gpt/chat/completions') && typeof o.credits_used === 'number') o.credits_used = '0x64';
      return json;
    };
    const proxy = await startRewritingProxy(sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'), hex);
    closers.push(proxy.close);
    const s = await connect(['--toolsets', 'phaya'], proxy.via);
    const r = await callConfirmed(s.client, 'phaya_gpt_chat', { messages: [{ role: 'user', content: 'hi' }] });
    expect(r.isError, text(r)).toBeFalsy();
    const [spent] = await s.app.store.recentSpend(1);
    expect(spent).toMatchObject({ tool: 'phaya_gpt_chat', state: 'committed' });
    expect(spent.credits).not.toBe(100);
    expect(spent.credits).toBe(0);
  });

  it('exports the observations as a --prices overlay the loader accepts (highest observed per tool)', async () => {
    const s = await connect();
    await s.wait(await s.create({ prompt: 'a sandbox:charge12', counts: '2' }));
    await s.wait(await s.create({ prompt: 'b sandbox:charge7', counts: '1' }));
    const overlay = exportOverlay(await s.app.store.listObservations());
    expect(overlay).toEqual({ prices: { [TOOL]: { credits: 12 } } });
    const file = join(mkdtempSync(join(tmpdir(), 'mediagen-export-')), 'prices.json');
    writeFileSync(file, JSON.stringify(overlay));
    expect(loadPriceOverlay(file)).toEqual(overlay);
    const priced = await connect(['--prices', file]);
    const q = await priced.call('quote', { tool: TOOL, arguments: { prompt: 'x' } });
    expect(sc(q).price).toMatchObject({ kind: 'exact', credits: 12 });
  });

  it('observes a ph0ny video price from its usage route (credits.remaining)', async () => {
    const s = await connect(['--toolsets', 'mediaio,phaya,ph0ny']);
    const r = await callConfirmed(s.client, 'ph0ny_video_generate', { prompt: 'a wave sandbox:charge25' });
    expect(r.isError, text(r)).toBeFalsy();
    await s.wait(sc(r).job_id as string);
    expect(await s.app.store.listObservations()).toMatchObject([
      { provider: 'ph0ny', tool: 'ph0ny_video_generate', credits: 25 },
    ]);
    const q = await s.call('quote', { tool: 'ph0ny_video_generate', arguments: { prompt: 'x' } });
    expect(text(q)).toContain('last observed 25 credits (1 observation');
  });
});
