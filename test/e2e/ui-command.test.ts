/**
 * `mediagen-mcp ui` end to end: the built command over a state folder a stdio server wrote, the sandbox
 * gateway counting every provider request. It prints its address on stderr, refuses a request without
 * its token or with a foreign Host or Origin, lists the same jobs as the store holds, cancels, and
 * offers no paid tool (a call of one reaches no provider).
 */
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/open.js';
import { UI_TOOLS } from '../../src/commands/ui.js';
import { CLI, freshStateDir } from '../helpers/paths.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH } from '../helpers/money.js';
import { spawnStdio, text } from '../helpers/stdio.js';
import { connectUi, rawRequest, spawnUi, type UiProcess } from '../helpers/ui.js';

const SORA = 'phaya_sora2_text_to_video';
let sandbox: Sandbox;
let env: Record<string, string>;
let ui: UiProcess;
let client: Client;
const jobIds: string[] = [];
let soraJob = '';
let soraProviderId = '';

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 1000 });
  env = phayaEnv(sandbox, { MEDIAGEN_WORKER: '0' });
  // A model's session made these jobs, then left: the page reads the same folder.
  const s = await spawnStdio(env);
  for (const prompt of ['a lantern', 'a kite']) {
    const r = await s.call(T2I, { prompt });
    expect(r.isError, text(r)).toBeFalsy();
    jobIds.push(sc(r).job_id as string);
  }
  const ask = await s.call(SORA, { prompt: 'a paper boat' });
  const sora = await s.call(SORA, { prompt: 'a paper boat', confirm_token: sc(ask).confirm_token });
  expect(sora.isError, text(sora)).toBeFalsy();
  soraJob = sc(sora).job_id as string;
  soraProviderId = sc(sora).provider_job_id as string;
  await s.close();
  ui = await spawnUi(env);
  client = await connectUi(ui);
});
afterAll(async () => {
  await client?.close();
  await ui?.stop();
  await sandbox?.close();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const call = async (name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

describe('mediagen-mcp ui', () => {
  it('prints a loopback address with a per-run token on stderr, and serves its page there', async () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/$/);
    const page = await fetch(ui.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('Gallery');
    expect(html).toContain('Spend');
    expect(html).toContain('host.html?');
    // A second run, on the port asked for, has another token.
    const port = await freePort();
    const other = await spawnUi(env, ['--port', String(port)]);
    expect(other.port).toBe(port);
    try {
      expect(other.token).not.toBe(ui.token);
      expect((await fetch(`http://127.0.0.1:${other.port}/${ui.token}/`)).status).toBe(403);
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('is in --help', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
    expect(help).toContain('ui [--port N]');
    expect(help).toMatch(/read-only except cancel/);
  });

  it('refuses a request without the token, with a wrong one, or with a foreign Host or Origin', async () => {
    const host = `127.0.0.1:${ui.port}`;
    const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const mcpHeaders = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    expect((await rawRequest(ui.port, '/', { Host: host })).status).toBe(401);
    // Without the token segment the path's first word is taken as one, and it is wrong.
    expect((await rawRequest(ui.port, '/mcp', { Host: host, ...mcpHeaders }, 'POST', list)).status).toBe(403);
    expect((await rawRequest(ui.port, '/not-the-token/mcp', { Host: host, ...mcpHeaders }, 'POST', list)).status).toBe(
      403,
    );
    const path = `/${ui.token}/mcp`;
    expect(
      (await rawRequest(ui.port, path, { Host: `evil.example:${ui.port}`, ...mcpHeaders }, 'POST', list)).status,
    ).toBe(403);
    expect((await rawRequest(ui.port, `/${ui.token}/`, { Host: 'evil.example' })).status).toBe(403);
    const foreignOrigin = { Host: host, Origin: 'http://evil.example', ...mcpHeaders };
    expect((await rawRequest(ui.port, path, foreignOrigin, 'POST', list)).status).toBe(403);
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const own = { Host: host, Origin: `http://127.0.0.1:${ui.port}`, ...mcpHeaders };
    const ok = await rawRequest(ui.port, path, own, 'POST', init);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('mediagen-mcp');
    // Past initialize, a request needs its session.
    expect((await rawRequest(ui.port, path, own, 'POST', list)).status).toBe(400);
    expect((await rawRequest(ui.port, path, { ...own, 'Mcp-Session-Id': 'made-up' }, 'POST', list)).status).toBe(404);
  });

  it('lists the read tools and jobs_cancel only, and lists the same jobs as the store holds', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(UI_TOOLS.has(n)).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['jobs_cancel', 'jobs_get', 'jobs_list', 'spend_report']));
    const listed = await call('jobs_list', { limit: 100 });
    expect(listed.isError, text(listed)).toBeFalsy();
    const shown = (sc(listed).jobs as { job_id: string }[]).map((j) => j.job_id);
    const store = await openStore({ stateDir: env.MEDIAGEN_STATE_DIR });
    try {
      const held = (await store.listJobs({ principal: 'local', limit: 100 })).jobs.map((j) => j.id);
      expect(shown).toEqual(held);
      expect(held.sort()).toEqual([...jobIds, soraJob].sort());
    } finally {
      await store.close();
    }
    const report = await call('spend_report');
    expect(report.isError, text(report)).toBeFalsy();
    expect(
      ((sc(report).chart as { providers: { provider: string }[] }).providers ?? []).map((p) => p.provider),
    ).toEqual(['phaya']);
  });

  it('offers no paid tool, no approval and no upload: calling one reaches no provider', async () => {
    const before = sandbox.stats().requests.length;
    for (const name of [T2I, SORA, 'mediagen_approve', 'media_upload', 'jobs_wait', 'jobs_track', 'quote']) {
      const r = await call(name, { prompt: 'a lantern' });
      expect(r.isError, name).toBe(true);
      expect(sc(r).code ?? text(r), name).toMatch(/NOT_FOUND|Unknown tool/);
    }
    expect(hits(sandbox, T2I_PATH)).toBe(2);
    expect(sandbox.stats().requests.length).toBe(before);
  });

  it('cancels a running job at the provider', async () => {
    const cancelPath = `/phaya/api/v1/sora2-text-to-video/cancel/${soraProviderId}`;
    expect(hits(sandbox, cancelPath)).toBe(0);
    const r = await call('jobs_cancel', { job_id: soraJob });
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toContain(`Job ${soraJob} is cancelled.`);
    expect(hits(sandbox, cancelPath)).toBe(1);
    const got = await call('jobs_get', { job_id: soraJob });
    expect(sc(got).status).toBe('cancelled');
  });

  it('shows the day cap but no session scope: the page has no model session', async () => {
    const capped = await spawnUi({ ...env, MEDIAGEN_CAP_SESSION: 'phaya=100', MEDIAGEN_CAP_DAY: 'phaya=500' });
    const c = await connectUi(capped);
    try {
      const r = (await c.callTool({ name: 'spend_report', arguments: {} })) as CallToolResult;
      expect(r.isError, text(r)).toBeFalsy();
      const row = (sc(r).providers as { provider: string; session: unknown; caps: Record<string, unknown> }[]).find(
        (p) => p.provider === 'phaya',
      );
      expect(row?.caps.day).toMatchObject({ cap: 500 });
      expect(row?.caps).not.toHaveProperty('session');
      expect(row?.session).toBeNull();
      expect(sc(r).session_note).toBe('Session caps apply per model session; not shown here.');
      expect(text(r)).toContain('Session caps apply per model session; not shown here.');
    } finally {
      await c.close();
      expect(await capped.stop()).toBe(0);
    }
  });

  it('cancels a running job whose stdio server is still running, with exactly one provider cancel request', async () => {
    const serve = await spawnStdio(env);
    try {
      const ask = await serve.call(SORA, { prompt: 'a paper crane' });
      const made = await serve.call(SORA, { prompt: 'a paper crane', confirm_token: sc(ask).confirm_token });
      expect(made.isError, text(made)).toBeFalsy();
      const job = sc(made).job_id as string;
      const cancelPath = `/phaya/api/v1/sora2-text-to-video/cancel/${sc(made).provider_job_id as string}`;
      // Between two stdio processes the creator alone may cancel while it runs: that rule stays.
      const other = await spawnStdio(env);
      try {
        const refused = await other.call('jobs_cancel', { job_id: job });
        expect(refused.isError).toBe(true);
        expect(text(refused)).toMatch(/^NOT_OWNER: /);
      } finally {
        await other.close();
      }
      expect(hits(sandbox, cancelPath)).toBe(0);
      // The page is the person at the desk: it cancels.
      const r = await call('jobs_cancel', { job_id: job });
      expect(r.isError, text(r)).toBeFalsy();
      expect(text(r)).toContain(`Job ${job} is cancelled.`);
      expect(hits(sandbox, cancelPath)).toBe(1);
      expect(sc(await serve.call('jobs_get', { job_id: job })).status).toBe('cancelled');
    } finally {
      await serve.close();
    }
  });

  it("--sandbox starts no gateway: without the port of serve's it refuses, saying how", async () => {
    const r = spawnSync(process.execPath, [CLI, 'ui', '--sandbox'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: freshStateDir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('MEDIAGEN_SANDBOX_PORT=N');
    expect(r.stderr).not.toContain('mediagen-mcp ui: open');
    const port = await freePort();
    const none = spawnSync(process.execPath, [CLI, 'ui', '--sandbox'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: freshStateDir(), MEDIAGEN_SANDBOX_PORT: String(port) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(`no sandbox gateway answers on http://127.0.0.1:${port}`);
  });

  it('--sandbox asks the gateway of the running serve --sandbox: jobs_get finds its job, cancel reaches it', async () => {
    const port = await freePort();
    const state = freshStateDir();
    const sbEnv = { MEDIAGEN_STATE_DIR: state, MEDIAGEN_SANDBOX_PORT: String(port), MEDIAGEN_WORKER: '0' };
    const serve = await spawnStdio(sbEnv, ['--sandbox']);
    let page: UiProcess | undefined;
    let c: Client | undefined;
    try {
      const ask = await serve.call(SORA, { prompt: 'a paper lamp' });
      const made = await serve.call(SORA, { prompt: 'a paper lamp', confirm_token: sc(ask).confirm_token });
      expect(made.isError, text(made)).toBeFalsy();
      const job = sc(made).job_id as string;
      const gateway = `http://127.0.0.1:${port}`;
      const cancels = async (): Promise<number> => {
        const stats = (await (await fetch(`${gateway}/_sandbox/stats`)).json()) as {
          requests: { method: string; path: string }[];
        };
        return stats.requests.filter((q) => q.method === 'POST' && q.path.includes('/cancel/')).length;
      };
      page = await spawnUi(sbEnv, ['--sandbox']);
      c = await connectUi(page);
      const got = (await c.callTool({ name: 'jobs_get', arguments: { job_id: job } })) as CallToolResult;
      expect(got.isError, text(got)).toBeFalsy();
      expect(sc(got).status).toBe('running');
      expect(await cancels()).toBe(0);
      const r = (await c.callTool({ name: 'jobs_cancel', arguments: { job_id: job } })) as CallToolResult;
      expect(r.isError, text(r)).toBeFalsy();
      expect(text(r)).toContain(`Job ${job} is cancelled.`);
      expect(await cancels()).toBe(1);
    } finally {
      await c?.close();
      await page?.stop();
      await serve.close();
    }
  });
});
