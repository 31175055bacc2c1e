/**
 * Consent a person clicks (issue 19, item 3): a client that declares the MCP Apps extension gets
 * CONFIRMATION_REQUIRED with the pending approval in `_meta`; the app-only mediagen_approve runs the call
 * exactly once on the money path, or declines it. Built server over stdio and Streamable HTTP, real
 * SQLite, the sandbox's request counter.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { APPROVAL_META, APPROVE_TOOL, UI_EXTENSION, VIEW_MIME, type ApprovalView } from '../../src/views/uris.js';
import { spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { hits as allHits, phayaEnv, sc, T2I, T2I_PATH } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const SORA = 'phaya_sora2_text_to_video';
const SORA_PATH = '/phaya/api/v1/sora2-text-to-video/create';
const APPS = { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } };

let sandbox: Sandbox;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});
afterAll(() => sandbox.close());

// The sandbox is shared by the tests of this file: each counts the requests made since it began.
let baseline = new Map<string, number>();
beforeEach(() => {
  baseline = new Map([SORA_PATH, T2I_PATH].map((p) => [p, allHits(sandbox, p)]));
});
const hits = (_: Sandbox, path: string): number => allHits(sandbox, path) - (baseline.get(path) ?? 0);

/** A confirm_token as the server issues them. */
const TOKEN = /\bct_[A-Za-z0-9_-]{20,}|confirm_token/;

async function serve(env: Record<string, string> = {}, capabilities: Record<string, unknown> = APPS) {
  const s = await spawnStdio(phayaEnv(sandbox, env), [], { capabilities });
  closers.push(() => s.close());
  return s;
}

function view(r: CallToolResult): ApprovalView {
  const v = (r._meta as Record<string, unknown> | undefined)?.[APPROVAL_META] as ApprovalView | undefined;
  if (!v) throw new Error(`no approval in _meta: ${JSON.stringify(r)}`);
  return v;
}

const approve = (s: { call: StdioServer['call'] }, id: string, decision = 'approve') =>
  s.call(APPROVE_TOOL, { approval_id: id, decision });

/** Everything a model may be shown of a result: its content and structuredContent. */
const modelVisible = (r: CallToolResult): string => JSON.stringify([r.content, r.structuredContent ?? null]);

describe('app approval over stdio', () => {
  it('CONFIRMATION_REQUIRED carries the approval view; Approve runs the call once and answers the job; a second Approve sends nothing', async () => {
    const s = await serve();
    const asked = await s.call(SORA, { prompt: 'a paper boat at dawn' });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    const v = view(asked);
    expect(v).toMatchObject({
      tool: SORA,
      key_args: { prompt: 'a paper boat at dawn' },
      price_text: '8 credits',
      balance_text: expect.stringMatching(/84\.9/) as unknown,
      caps_left: [],
    });
    expect(v.approval_id).toMatch(/^ap_/);
    expect(Date.parse(v.expires_at)).toBeGreaterThan(Date.now());
    // The approval id is for the view only; by default the token stays as the fallback.
    expect(modelVisible(asked)).not.toContain(v.approval_id);
    expect(sc(asked).confirm_token).toMatch(/^ct_/);
    expect(text(asked)).toMatch(/approval view/);
    expect(hits(sandbox, SORA_PATH)).toBe(0);

    const ran = await approve(s, v.approval_id);
    expect(ran.isError, text(ran)).toBeFalsy();
    expect(sc(ran).job_id).toMatch(/^job_/);
    expect(hits(sandbox, SORA_PATH)).toBe(1);

    const again = await approve(s, v.approval_id);
    expect(sc(again).code, text(again)).toBe('APPROVAL_INVALID');
    expect(sc(again).refused).toBe('used');
    // The fallback token was the same consent: it is used up too.
    const token = await s.call(SORA, { prompt: 'a paper boat at dawn', confirm_token: sc(asked).confirm_token });
    expect(sc(token).code, text(token)).toBe('CONFIRMATION_REQUIRED');
    expect(sc(token).refused).toMatch(/already used/);
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('Decline sends nothing, and neither the approval nor its fallback token can run the call afterwards', async () => {
    const s = await serve();
    const asked = await s.call(SORA, { prompt: 'declined boat' });
    const v = view(asked);
    const declined = await approve(s, v.approval_id, 'decline');
    expect(declined.isError, text(declined)).toBeFalsy();
    expect(text(declined)).toMatch(/Nothing was sent or charged/);
    const late = await approve(s, v.approval_id);
    expect(sc(late)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'declined' });
    // What the person declined, the model cannot run with the fallback token either.
    const token = await s.call(SORA, { prompt: 'declined boat', confirm_token: sc(asked).confirm_token });
    expect(sc(token).code, text(token)).toBe('CONFIRMATION_REQUIRED');
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('once the model used the fallback token, Approve sends nothing more', async () => {
    const s = await serve();
    const asked = await s.call(SORA, { prompt: 'token first' });
    const used = await s.call(SORA, { prompt: 'token first', confirm_token: sc(asked).confirm_token });
    expect(sc(used).job_id, text(used)).toMatch(/^job_/);
    const late = await approve(s, view(asked).approval_id);
    expect(sc(late)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'used' });
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('a client with both the apps extension and a form never gets a token: the view, then the form as the fallback', async () => {
    const s = await serve({}, { ...APPS, elicitation: {} });
    let forms = 0;
    let answer = 'decline';
    s.client.setRequestHandler(ElicitRequestSchema, () => {
      forms++;
      return answer === 'accept' ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
    });
    const asked = await s.call(SORA, { prompt: 'both ways' });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    const v = view(asked);
    expect(JSON.stringify(asked)).not.toMatch(/\bct_[A-Za-z0-9_-]{20}/);
    expect(sc(asked).confirm_token).toBeUndefined();
    expect(forms).toBe(0);
    // A guessed token is no way in: asked again, the person gets the form (declined here); nothing sent.
    const guessed = await s.call(SORA, { prompt: 'both ways', confirm_token: 'ct_guessedguessedguessedguessed' });
    expect(sc(guessed).code, text(guessed)).toBe('CONSENT_DECLINED');
    expect(forms).toBe(1);
    expect(hits(sandbox, SORA_PATH)).toBe(0);
    // The form closed the pending view: it cannot run the call after the person said no.
    const late = await approve(s, v.approval_id);
    expect(sc(late)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'declined' });
    // A fresh ask offers the view again (no token); asked again, the form the person accepts runs it once.
    const again = await s.call(SORA, { prompt: 'both ways' });
    expect(JSON.stringify(again)).not.toMatch(/\bct_[A-Za-z0-9_-]{20}/);
    answer = 'accept';
    const ran = await s.call(SORA, { prompt: 'both ways' });
    expect(sc(ran).job_id, text(ran)).toMatch(/^job_/);
    expect(forms).toBe(2);
    const stale = await approve(s, view(again).approval_id);
    expect(sc(stale).code, text(stale)).toBe('APPROVAL_INVALID');
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('Decline after the model used the fallback token says it was used and names the job, never "nothing sent"', async () => {
    const s = await serve();
    const asked = await s.call(SORA, { prompt: 'decline after token' });
    const used = await s.call(SORA, { prompt: 'decline after token', confirm_token: sc(asked).confirm_token });
    const job = sc(used).job_id as string;
    expect(job, text(used)).toMatch(/^job_/);
    const declined = await approve(s, view(asked).approval_id, 'decline');
    expect(declined.isError, text(declined)).toBe(true);
    expect(sc(declined)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'used', job_id: job });
    expect(text(declined)).toContain(job);
    expect(text(declined)).not.toMatch(/Nothing was sent/);
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('a second Approve after an unknown outcome names the reservation and sends nothing more', async () => {
    const s = await serve();
    const v = view(await s.call(SORA, { prompt: 'answer lost sandbox:lost' }));
    const first = await approve(s, v.approval_id);
    expect(sc(first).code, text(first)).toBe('OUTCOME_UNKNOWN');
    expect(hits(sandbox, SORA_PATH)).toBe(1);
    const second = await approve(s, v.approval_id);
    expect(sc(second), text(second)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'used' });
    const reservation = sc(second).reservation as string;
    expect(reservation).toMatch(/^job_/);
    expect(text(second)).toContain(reservation);
    expect(text(second)).toMatch(/Do not ask for the call again/);
    expect(text(second)).not.toMatch(/Nothing was sent|ask for the call again to get/);
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('an unknown or expired approval is refused with nothing sent', async () => {
    const s = await serve({ MEDIAGEN_TOKEN_TTL_SECONDS: '1' });
    const unknown = await approve(s, 'ap_never_issued');
    expect(sc(unknown).code, text(unknown)).toBe('NOT_FOUND');
    const v = view(await s.call(SORA, { prompt: 'too late' }));
    const end = Date.parse(v.expires_at) + 200;
    while (Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const late = await approve(s, v.approval_id);
    expect(sc(late)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'expired' });
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('an approval over a cap is refused with nothing sent, kept, and runs once the cap allows', async () => {
    const dir = tempDir();
    const env = { MEDIAGEN_STATE_DIR: dir, MEDIAGEN_CONFIRM: 'all' };
    const small = await serve({ ...env, MEDIAGEN_CAP_DAY: 'phaya=0.5' });
    const v = view(await small.call(T2I, { prompt: 'a lantern under a cap' }));
    expect(v.caps_left).toEqual(['day cap: 0.5 of 0.5 credits left']);
    const refused = await approve(small, v.approval_id);
    expect(sc(refused).code, text(refused)).toBe('BUDGET_EXCEEDED');
    expect(hits(sandbox, T2I_PATH)).toBe(0);
    await closers.pop()!();

    const raised = await serve({ ...env, MEDIAGEN_CAP_DAY: 'phaya=5' });
    const both = await Promise.all([approve(raised, v.approval_id), approve(raised, v.approval_id)]);
    const ran = both.filter((r) => !r.isError);
    expect(ran.length, both.map(text).join('\n')).toBe(1);
    expect(sc(ran[0]).job_id).toMatch(/^job_/);
    expect(sc(both.find((r) => r.isError)!)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'used' });
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });

  it('the approved price binds: priced higher after the approval, Approve is refused with nothing sent and the approval closed', async () => {
    const dir = tempDir();
    const prices = (credits: number): string => {
      const file = join(tempDir(), 'prices.json');
      writeFileSync(file, JSON.stringify({ prices: { [SORA]: { credits } } }));
      return file;
    };
    const cheap = await serve({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_PRICES: prices(8) });
    const v = view(await cheap.call(SORA, { prompt: 'a price that moves' }));
    expect(v.price_text).toBe('8 credits');
    await closers.pop()!();

    const dear = await serve({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_PRICES: prices(30) });
    const refused = await approve(dear, v.approval_id);
    expect(sc(refused), text(refused)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'price_changed' });
    expect(text(refused)).toMatch(/approved 8 credits, now 30 credits/);
    expect(hits(sandbox, SORA_PATH)).toBe(0);
    const again = await approve(dear, v.approval_id);
    expect(sc(again)).toMatchObject({ code: 'APPROVAL_INVALID', refused: 'declined' });
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('Approve runs only a tool this server serves: after a restart with --tools leaving it out, NOT_FOUND, nothing sent', async () => {
    const dir = tempDir();
    const all = await serve({ MEDIAGEN_STATE_DIR: dir });
    const v = view(await all.call(SORA, { prompt: 'served no more' }));
    await closers.pop()!();
    const narrow = await serve({ MEDIAGEN_STATE_DIR: dir, MEDIAGEN_TOOLS: `${T2I},${APPROVE_TOOL}` });
    const refused = await approve(narrow, v.approval_id);
    expect(sc(refused).code, text(refused)).toBe('NOT_FOUND');
    expect(text(refused)).toContain(SORA);
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('the approval view shows every argument the call runs (long strings cut), not a keyword-picked few', async () => {
    const s = await serve();
    const prompt = 'a long prompt '.repeat(60);
    const v = view(await s.call(SORA, { prompt, remove_watermark: true }));
    expect(v.key_args).toMatchObject({ remove_watermark: true, aspect_ratio: 'landscape', n_frames: '10' });
    const shown = v.key_args.prompt as string;
    expect(shown.length).toBeLessThanOrEqual(300);
    expect(prompt.startsWith(shown.slice(0, -3))).toBe(true);
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('--consent app-or-form: the token appears nowhere the model sees, and Approve in the view runs the call', async () => {
    const s = await serve({ MEDIAGEN_CONSENT: 'app-or-form' });
    const asked = await s.call(SORA, { prompt: 'no token please' });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    expect(modelVisible(asked)).not.toMatch(TOKEN);
    expect(text(asked)).toMatch(/approve or decline it in the approval view/);
    const ran = await approve(s, view(asked).approval_id);
    expect(sc(ran).job_id, text(ran)).toMatch(/^job_/);
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('--consent app-or-form with a client that shows neither view nor form: a clear refusal, no token, nothing sent', async () => {
    const s = await serve({ MEDIAGEN_CONSENT: 'app-or-form' }, {});
    const asked = await s.call(SORA, { prompt: 'no way to ask' });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    expect(text(asked)).toMatch(
      /needs? a client that shows an approval view or form|Use a client that shows an approval view or form/,
    );
    expect(modelVisible(asked)).not.toMatch(TOKEN);
    expect(asked._meta?.[APPROVAL_META]).toBeUndefined();
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });

  it('a client that declares only URL-mode elicitation gets a token (no form it cannot show) and can use it', async () => {
    const s = await serve({}, { elicitation: { url: {} } });
    let forms = 0;
    s.client.setRequestHandler(ElicitRequestSchema, () => {
      forms++;
      return { action: 'decline' };
    });
    const asked = await s.call(SORA, { prompt: 'url mode only' });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    expect(forms).toBe(0);
    const ran = await s.call(SORA, { prompt: 'url mode only', confirm_token: sc(asked).confirm_token });
    expect(sc(ran).job_id, text(ran)).toMatch(/^job_/);
    expect(hits(sandbox, SORA_PATH)).toBe(1);
  });

  it('a paid tool that creates no job (no view links it) asks as before: the token, no approval in _meta', async () => {
    const s = await serve();
    const asked = await s.call('phaya_gpt_chat', { messages: [{ role: 'user', content: 'Say hi' }] });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    expect(sc(asked).confirm_token).toMatch(/^ct_/);
    expect(asked._meta?.[APPROVAL_META]).toBeUndefined();
  });

  it('mediagen_approve is listed for apps only: the model-visible tool list lacks it; a client without apps neither lists nor calls it', async () => {
    const s = await serve();
    const { tools } = await s.client.listTools();
    const tool = tools.find((t) => t.name === APPROVE_TOOL);
    expect(tool?._meta).toEqual({ ui: { visibility: ['app'] } });
    const forModel = tools.filter((t) => {
      const visibility = (t._meta?.ui as { visibility?: string[] } | undefined)?.visibility;
      return visibility === undefined || visibility.includes('model');
    });
    expect(forModel.map((t) => t.name)).not.toContain(APPROVE_TOOL);
    expect(forModel.map((t) => t.name)).toContain(SORA);
    // A client that renders no views is not offered it at all, and may not call it.
    const plain = await serve({}, {});
    expect((await plain.client.listTools()).tools.map((t) => t.name)).not.toContain(APPROVE_TOOL);
    const called = await approve(plain, 'ap_anything');
    expect(sc(called).code, text(called)).toBe('NOT_FOUND');
    expect(text(called)).toMatch(/Unknown tool/);
  });
});

describe('app approval over Streamable HTTP', () => {
  let server: HttpServerProcess;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    const dir = tempDir();
    const written = writeTokens(dir, { alice: {}, bob: {} });
    tokens = written.tokens;
    server = await spawnHttp(phayaEnv(sandbox), ['--tokens-file', written.file]);
  });
  afterAll(async () => {
    await server.stop();
  });

  async function connect(principal: string) {
    const transport = new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${tokens[principal]}` } },
    });
    const client = new Client({ name: `apps-${principal}`, version: '1.0.0' }, { capabilities: APPS });
    await client.connect(transport);
    closers.push(() => client.close());
    return {
      call: async (name: string, a: Record<string, unknown> = {}) =>
        (await client.callTool({ name, arguments: a })) as CallToolResult,
    };
  }

  it("another principal's Approve is NOT_FOUND with nothing sent; the owner's runs the call once", async () => {
    const before = 0;
    const alice = await connect('alice');
    const bob = await connect('bob');
    const asked = await alice.call(SORA, { prompt: 'alice only' });
    const v = view(asked);
    const foreign = await approve(bob, v.approval_id);
    expect(sc(foreign).code, text(foreign)).toBe('NOT_FOUND');
    const foreignDecline = await approve(bob, v.approval_id, 'decline');
    expect(sc(foreignDecline).code).toBe('NOT_FOUND');
    expect(hits(sandbox, SORA_PATH)).toBe(before);
    const ran = await approve(alice, v.approval_id);
    expect(sc(ran).job_id, text(ran)).toMatch(/^job_/);
    expect(hits(sandbox, SORA_PATH)).toBe(before + 1);
    const again = await approve(alice, v.approval_id);
    expect(sc(again).code).toBe('APPROVAL_INVALID');
    expect(hits(sandbox, SORA_PATH)).toBe(before + 1);
  });
});

describe('--consent app-or-form over stateless HTTP', () => {
  it('stays app-or-form (stateless otherwise goes by token): a clear refusal, no token anywhere, nothing sent', async () => {
    const server = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_CONSENT: 'app-or-form' }), ['--stateless']);
    closers.push(() => server.stop());
    const transport = new StreamableHTTPClientTransport(new URL(server.url));
    const client = new Client({ name: 'stateless', version: '1.0.0' }, { capabilities: APPS });
    await client.connect(transport);
    closers.push(() => client.close());
    const asked = (await client.callTool({ name: SORA, arguments: { prompt: 'stateless' } })) as CallToolResult;
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    expect(text(asked)).toMatch(/Use a client that shows an approval view or form/);
    expect(modelVisible(asked)).not.toMatch(TOKEN);
    expect(hits(sandbox, SORA_PATH)).toBe(0);
  });
});
