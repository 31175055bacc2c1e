/**
 * The cost guard, adversarially: a real SDK Client (in-memory transport) against a real server, whose
 * providers point at the real sandbox gateway on loopback; the sandbox counts every request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { minimalArgs } from '../helpers/args.js';
import { connectInMemory } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';

const PRICES = `${ROOT}test/fixtures/prices/mediaio.json`;
let sandbox: Sandbox;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  sandbox.reset();
});

async function connect(
  argv: string[] = [],
  env: Record<string, string> = {},
  extra: Parameters<typeof connectInMemory>[2] = {},
) {
  const c = await connectInMemory(argv, env, { baseUrl: (p, d) => sandbox.baseUrl(p, d), key: sandbox.key, ...extra });
  closers.push(c.close);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await c.client.callTool({ name, arguments: args })) as CallToolResult;
  return { ...c, call };
}

const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
/** Requests other than free balance reads (an unknown-price create reads the balance first: observed prices). */
const sent = () => sandbox.stats().requests.filter((q) => q.path !== '/mediaio/user/credits').length;
const IMAGE = 'https://example.com/cat.png';

describe('consent before any provider request', () => {
  it('every guarded tool in the shipped catalogues makes zero provider requests without consent', async () => {
    const { client, call } = await connect(['--tools', 'mediaio_t2v_wan_v2_5', '--toolsets', 'mediaio,phaya,ph0ny']);
    const paid = (await client.listTools()).tools.filter((t) => 'confirm_token' in (t.inputSchema.properties ?? {}));
    const guarded: { name: string; args: Record<string, unknown> }[] = [];
    for (const t of paid) {
      const args = minimalArgs(t.inputSchema);
      const q = sc(await call('quote', { tool: t.name, arguments: args }));
      if ((q.consent as { needed: boolean }).needed) guarded.push({ name: t.name, args });
    }
    const names = guarded.map((g) => g.name);
    expect(names.filter((n) => n.startsWith('mediaio_'))).toHaveLength(22); // every generation (unknown prices), status-2 one too
    expect(names.filter((n) => n.startsWith('ph0ny_'))).toHaveLength(5); // video prices unknown
    for (const n of ['phaya_veo31_video', 'phaya_sora2_text_to_video', 'phaya_sora2_image_to_video', 'phaya_seedance'])
      expect(names).toContain(n);
    expect(names).not.toContain('phaya_text_to_image'); // 1 credit: below the threshold
    sandbox.reset();
    for (const g of guarded) {
      const r = await call(g.name, g.args);
      expect(sc(r).code, g.name).toBe('CONFIRMATION_REQUIRED');
      expect(sc(r).confirm_token, g.name).toMatch(/^ct_/);
    }
    expect(sandbox.stats().total).toBe(0);
  });

  it('runs a cheap priced call (below the threshold) without asking, and a Veo call only with consent', async () => {
    const { call } = await connect(['--prices', PRICES]);
    const cheap = await call('mediaio_t2i_imagen_4', { prompt: 'a fox' });
    expect(cheap.isError).toBeFalsy();
    expect(sandbox.stats().total).toBe(1);
    const veo = await call('mediaio_i2v_veo_v3_1_fast', { image: IMAGE, prompt: 'a fox' });
    expect(sc(veo)).toMatchObject({ code: 'CONFIRMATION_REQUIRED', price: '3 credits' });
    expect(sc(veo).reason).toMatch(/always need confirmation/);
    expect(sandbox.stats().total).toBe(1);
  });

  it('asks at or above the threshold', async () => {
    const { call } = await connect(['--prices', PRICES]);
    expect(sc(await call('mediaio_t2i_imagen_4', { prompt: 'x', counts: '4' })).code).toBe(undefined);
    expect(sc(await call('mediaio_i2v_kling_v3_0', { image: IMAGE, prompt: 'x' }))).toMatchObject({
      code: 'CONFIRMATION_REQUIRED',
      price: '6 credits',
    });
    const r = await connect(['--prices', PRICES, '--confirm-above', 'mediaio=4']);
    expect(sc(await r.call('mediaio_t2i_imagen_4', { prompt: 'x', counts: '4' })).code).toBe('CONFIRMATION_REQUIRED');
  });

  it('--confirm all asks for everything; --consent-off skips the prompt but not the caps', async () => {
    const all = await connect(['--prices', PRICES, '--confirm', 'all']);
    expect(sc(await all.call('mediaio_t2i_soul_character', { prompt: 'x' })).code).toBe('CONFIRMATION_REQUIRED');
    const off = await connect(['--consent-off', 'mediaio', '--prices', PRICES, '--cap-session', 'mediaio=6']);
    expect((await off.call('mediaio_i2v_kling_v3_0', { image: IMAGE, prompt: 'x' })).isError).toBeFalsy();
    expect(sc(await off.call('mediaio_i2v_kling_v3_0', { image: IMAGE, prompt: 'y' })).code).toBe('BUDGET_EXCEEDED');
    expect(sandbox.stats().total).toBe(1 + 0);
  });
});

describe('consent tokens', () => {
  const args = { prompt: 'a red kite over a beach', counts: '2' };
  async function tokenFor(c: Awaited<ReturnType<typeof connect>>, a: Record<string, unknown> = args) {
    const r = await c.call('mediaio_t2i_imagen_4', a);
    expect(sc(r).code).toBe('CONFIRMATION_REQUIRED');
    return sc(r).confirm_token as string;
  }

  it('works once for the same call, with key order and explicit defaults irrelevant', async () => {
    const c = await connect();
    const token = await tokenFor(c);
    const ok = await c.call('mediaio_t2i_imagen_4', {
      counts: '2',
      ratio: '9:16',
      prompt: args.prompt,
      confirm_token: token,
    });
    expect(ok.isError).toBeFalsy();
    expect(sent()).toBe(1);
    const again = await c.call('mediaio_t2i_imagen_4', { ...args, confirm_token: token });
    expect(sc(again)).toMatchObject({ code: 'CONFIRMATION_REQUIRED', refused: expect.stringMatching(/already used/) });
    expect(sent()).toBe(1);
  });

  it.each([
    [
      'other arguments',
      'mediaio_t2i_imagen_4',
      { prompt: 'a red kite over a beach', counts: '3' },
      /another tool, other arguments/,
    ],
    [
      'another tool',
      'mediaio_t2i_soul_character',
      { prompt: 'a red kite over a beach' },
      /another tool, other arguments/,
    ],
    ['a forged token', 'mediaio_t2i_imagen_4', args, /not one this server issued/],
  ])('refuses %s with zero provider requests', async (what, tool, a, says) => {
    const c = await connect();
    const real = await tokenFor(c);
    const token = what === 'a forged token' ? `ct_${'A'.repeat(32)}` : real;
    const r = await c.call(tool, { ...a, confirm_token: token });
    expect(sc(r).code).toBe('CONFIRMATION_REQUIRED');
    expect(sc(r).refused).toMatch(says);
    expect(sandbox.stats().total).toBe(0);
    // the genuine token still works for the call it was issued for (a mismatch does not burn it)
    if (what !== 'a forged token')
      expect((await c.call('mediaio_t2i_imagen_4', { ...args, confirm_token: real })).isError).toBeFalsy();
  });

  it('refuses an expired token (fake clock)', async () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const c = await connect([], { MEDIAGEN_TOKEN_TTL_SECONDS: '600' }, { now: () => now });
    const token = await tokenFor(c);
    now += 600_000;
    const r = await c.call('mediaio_t2i_imagen_4', { ...args, confirm_token: token });
    expect(sc(r).refused).toMatch(/expired/);
    expect(sandbox.stats().total).toBe(0);
  });

  it('refuses a token issued to another principal (sharing the same store)', async () => {
    const c = await connect();
    const token = await tokenFor(c);
    const other = c.app.createMcpServer('another-caller', 'another-principal');
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'other', version: '1' });
    await Promise.all([other.server.connect(a), client.connect(b)]);
    closers.push(() => client.close());
    const r = (await client.callTool({
      name: 'mediaio_t2i_imagen_4',
      arguments: { ...args, confirm_token: token },
    })) as CallToolResult;
    // The same answer as a token that never existed: another principal learns nothing.
    expect(sc(r).refused).toMatch(/not one this server issued/);
    expect(sandbox.stats().total).toBe(0);
  });

  it('--consent elicitation refuses clients that cannot elicit, with no token', async () => {
    const c = await connect(['--consent', 'elicitation']);
    const r = await c.call('mediaio_t2i_imagen_4', args);
    expect(sc(r)).toMatchObject({ code: 'CONFIRMATION_REQUIRED', elicitationRequired: true });
    expect(sc(r).confirm_token).toBeUndefined();
    expect(sandbox.stats().total).toBe(0);
  });
});

describe('consent by elicitation', () => {
  async function eliciting(action: 'accept' | 'decline' | 'cancel', approve = true) {
    const c = await connect([], {}, { client: { capabilities: { elicitation: { form: {} } } } });
    const seen: string[] = [];
    c.client.setRequestHandler(ElicitRequestSchema, (req) => {
      seen.push(req.params.message);
      return action === 'accept' ? { action, content: { approve } } : { action };
    });
    return { ...c, seen };
  }

  it('accept -> exactly one provider request; the form shows tool, arguments, price and balance', async () => {
    const c = await eliciting('accept');
    const r = await c.call('mediaio_t2i_imagen_4', { prompt: 'a heron' });
    expect(r.isError).toBeFalsy();
    expect(c.seen[0]).toMatch(
      /Imagen 4 \(mediaio_t2i_imagen_4\) with prompt="a heron".*Price: unknown\. Balance: 1000 credits\./,
    );
    // The form's balance, then the observed-price balance read (unknown price), then the one create.
    expect(sandbox.stats().requests.map((q) => q.path)).toEqual([
      '/mediaio/user/credits',
      '/mediaio/user/credits',
      '/mediaio/generation/imagen/t2i-imagen-4',
    ]);
  });

  it.each([['decline'], ['cancel']] as const)('%s -> CONSENT_DECLINED and no generation request', async (action) => {
    const c = await eliciting(action);
    const r = await c.call('mediaio_t2i_imagen_4', { prompt: 'a heron' });
    expect(sc(r).code).toBe('CONSENT_DECLINED');
    expect(sandbox.stats().requests.filter((q) => q.path.includes('/generation/'))).toHaveLength(0);
  });

  it('accept without ticking approve is a refusal', async () => {
    const c = await eliciting('accept', false);
    expect(sc(await c.call('mediaio_t2i_imagen_4', { prompt: 'a heron' })).code).toBe('CONSENT_DECLINED');
    expect(sandbox.stats().requests.filter((q) => q.path.includes('/generation/'))).toHaveLength(0);
  });

  it('a client without the capability gets the token path', async () => {
    const c = await connect();
    expect(sc(await c.call('mediaio_t2i_imagen_4', { prompt: 'a heron' })).code).toBe('CONFIRMATION_REQUIRED');
  });
});

describe('caps and the spend ledger', () => {
  it('50 concurrent calls against a cap that fits 10 -> exactly 10 provider requests; the ledger agrees', async () => {
    const c = await connect(['--prices', PRICES, '--cap-session', 'mediaio=10']);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.call('mediaio_t2i_imagen_4', { prompt: `lighthouse ${i}` })),
    );
    const ok = results.filter((r) => !r.isError);
    const refused = results.filter((r) => sc(r).code === 'BUDGET_EXCEEDED');
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(40);
    expect(sandbox.stats().total).toBe(10);
    const report = sc(await c.call('spend_report'));
    const row = (report.providers as { provider: string; session: { committed: number } }[]).find(
      (p) => p.provider === 'mediaio',
    );
    expect(row?.session.committed).toBe(10);
    expect(sc(refused[0]).message).toMatch(
      /session cap for mediaio is 10 credits; 10 used or reserved, 0 left; this call needs 1/,
    );
  });

  it('refuses an unknown price when a cap is set (the cap could not be kept), with zero requests', async () => {
    const c = await connect(['--cap-day', 'mediaio=100', '--consent-off', 'mediaio']);
    const r = await c.call('mediaio_i2v_wan_v2_6', { image: IMAGE, prompt: 'x' });
    expect(sc(r).code).toBe('BUDGET_EXCEEDED');
    expect(sandbox.stats().total).toBe(0);
  });

  it('releases the reservation when the provider refuses the job', async () => {
    const c = await connect(['--prices', PRICES, '--cap-session', 'mediaio=1']);
    expect(sc(await c.call('mediaio_t2i_imagen_4', { prompt: 'x sandbox:credits' })).code).toBe('INSUFFICIENT_CREDITS');
    expect((await c.call('mediaio_t2i_imagen_4', { prompt: 'y' })).isError).toBeFalsy();
    expect(sandbox.stats().total).toBe(2);
  });

  it('quote prices a call exactly as the tool would validate it, and never calls a paid route', async () => {
    const c = await connect(['--prices', PRICES, '--cap-day', 'mediaio=50']);
    const q = sc(
      await c.call('quote', {
        tool: 'mediaio_i2v_kling_v3_0',
        arguments: { image: IMAGE, prompt: 'x', duration: '15s' },
      }),
    );
    expect(q).toMatchObject({
      price: { kind: 'exact', credits: 18, currency: 'credits' },
      consent: { needed: true },
      caps: { day: { cap: 50, used: 0, left: 50 } },
      balance: '1000 credits',
    });
    const bad = await c.call('quote', {
      tool: 'mediaio_i2v_kling_v3_0',
      arguments: { image: IMAGE, prompt: 'x', duration: '7s' },
    });
    expect(sc(bad).code).toBe('BAD_ARGUMENTS');
    const unknown = sc(
      await c.call('quote', { tool: 'mediaio_i2v_wan_v2_6', arguments: { image: IMAGE, prompt: 'x' } }),
    );
    expect(unknown).toMatchObject({ price: { kind: 'unknown' }, consent: { needed: true } });
    expect(sandbox.stats().requests.every((q) => q.path === '/mediaio/user/credits')).toBe(true);
  });
});

describe('no double charge', () => {
  it('the same idempotency_key and arguments returns the job already created, with no second request', async () => {
    const c = await connect(['--prices', PRICES]);
    const a = { prompt: 'a kite', idempotency_key: 'order-42-kite' };
    const first = sc(await c.call('mediaio_t2i_imagen_4', a));
    const second = sc(await c.call('mediaio_t2i_imagen_4', { ...a }));
    expect(second.job_id).toBe(first.job_id);
    expect(second.reused).toBe(true);
    expect(sandbox.stats().total).toBe(1);
    const conflict = sc(await c.call('mediaio_t2i_imagen_4', { ...a, prompt: 'another kite' }));
    expect(conflict.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(sandbox.stats().total).toBe(1);
  });

  it('a key whose call was refused before reaching the provider can be used again', async () => {
    const c = await connect();
    const a = { prompt: 'a kite', idempotency_key: 'order-43-kite' };
    const first = sc(await c.call('mediaio_t2i_imagen_4', a));
    expect(first.code).toBe('CONFIRMATION_REQUIRED');
    const ok = await c.call('mediaio_t2i_imagen_4', { ...a, confirm_token: first.confirm_token as string });
    expect(ok.isError).toBeFalsy();
    expect(sent()).toBe(1);
  });
});
