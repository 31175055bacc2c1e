/**
 * GET /metrics for operators, through real interfaces: the built server over HTTP (and over stdio with
 * --metrics-port), real MCP clients making calls against the sandbox gateway, then a scrape over HTTP
 * whose counters must have moved exactly.
 */
import { networkInterfaces } from 'node:os';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectHttp, spawnHttp, writeTokens } from '../helpers/http-server.js';
import { tempDir } from '../helpers/in-memory.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH } from '../helpers/money.js';
import { CLI } from '../helpers/paths.js';
import { spawnStdio } from '../helpers/stdio.js';
import { openStore } from '../../src/store/open.js';
import { makeJob } from '../store/contract-fixtures.js';
import { metricsUrlOf, sample, scrape, total } from '../helpers/metrics.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let sandbox: Sandbox;
beforeAll(async () => {
  // Jobs stay open while the test reads the gauges.
  sandbox = await startSandbox({ pollsToComplete: 100_000 });
});
afterAll(() => sandbox.close());

describe('GET /metrics on the HTTP server, behind its own token', () => {
  it('needs that token, and counts tool calls, paid requests by class, credits, jobs, store calls and HTTP answers exactly', async () => {
    const dir = tempDir();
    const { file, tokens } = writeTokens(dir, { alice: {} });
    const server = await spawnHttp(
      phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir, MEDIAGEN_METRICS_TOKEN: METRICS_TOKEN }),
      ['--tokens-file', file, '--cap-day', 'phaya=2'],
    );
    const metricsUrl = server.url.replace(/\/mcp$/, '/metrics');
    const mcp = await connectHttp(server.url, tokens.alice);
    try {
      // Auth: none, wrong, an MCP principal's token: 401; the metrics token: 200.
      expect((await scrape(metricsUrl)).status).toBe(401);
      expect((await scrape(metricsUrl, 'wrong-token-0123456789')).status).toBe(401);
      expect((await scrape(metricsUrl, tokens.alice)).status).toBe(401);
      const before = await scrape(metricsUrl, METRICS_TOKEN);
      expect(before.status).toBe(200);
      expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(total(before.body, 'mediagen_provider_requests_total')).toBe(0);

      // One paid call accepted (1 credit), one refused by the provider, one whose outcome is unknown.
      const ok = await mcp.call(T2I, { prompt: 'a lantern' });
      expect(ok.isError).toBeFalsy();
      const refused = await mcp.call(T2I, { prompt: 'a lantern sandbox:badparams' });
      expect(refused.isError).toBe(true);
      const unknown = await mcp.call(T2I, { prompt: 'a lantern sandbox:5xx' });
      expect(sc(unknown).code).toBe('OUTCOME_UNKNOWN');
      const sent = hits(sandbox, T2I_PATH);
      // The day cap (2) is used up (1 committed + 1 uncertain): refused before anything is sent.
      const capped = await mcp.call(T2I, { prompt: 'a lantern' });
      expect(sc(capped).code).toBe('BUDGET_EXCEEDED');
      expect(hits(sandbox, T2I_PATH)).toBe(sent);
      await mcp.call('no_such_tool', {});
      // A job of a principal this server does not poll, due since long ago: not this worker's lag.
      const other = await openStore({ stateDir: dir });
      await other.insertJob(makeJob({ id: 'job_not_polled_here', provider: 'phaya', principal: 'bob', nextPollAt: 1 }));
      await other.close();

      const { body } = await scrape(metricsUrl, METRICS_TOKEN);
      const req = (cls: string): number | undefined =>
        sample(body, 'mediagen_provider_requests_total', { provider: 'phaya', class: cls });
      expect([req('accepted'), req('refused'), req('unknown')]).toEqual([1, 1, 1]);
      expect(total(body, 'mediagen_provider_requests_total')).toBe(3);
      const calls = (outcome: string): number | undefined =>
        sample(body, 'mediagen_tool_calls_total', { tool: T2I, outcome });
      expect(calls('ok')).toBe(1);
      expect(calls('OUTCOME_UNKNOWN')).toBe(1);
      expect(calls('BUDGET_EXCEEDED')).toBe(1);
      expect(total(body, 'mediagen_tool_calls_total', { tool: T2I })).toBe(4);
      // A name that is no tool is one label, never the client's text.
      expect(sample(body, 'mediagen_tool_calls_total', { tool: '(unknown)', outcome: 'NOT_FOUND' })).toBe(1);
      expect(body).not.toContain('no_such_tool');
      const credits = (state: string): number | undefined =>
        sample(body, 'mediagen_credits', { provider: 'phaya', state });
      expect(credits('committed')).toBe(1);
      expect(credits('uncertain')).toBe(1);
      expect(credits('released')).toBe(1);
      expect(credits('reserved')).toBe(0);
      expect(credits('refunded')).toBe(0);
      expect(total(body, 'mediagen_open_jobs')).toBe(2); // every principal's: bob's too
      expect(sample(body, 'mediagen_store_up')).toBe(1);
      // The open job it does poll is polled every 250 ms (sandbox): never a minute overdue.
      expect(sample(body, 'mediagen_worker_lag_seconds')).toBeLessThan(60);
      // Every paid call reserved once (the capped one was refused by the store's reserve, still one call).
      expect(sample(body, 'mediagen_store_call_seconds_count', { method: 'reserve', result: 'ok' })).toBe(4);
      expect(sample(body, 'mediagen_http_requests_total', { route: 'metrics', status: '401' })).toBe(3);
      expect(sample(body, 'mediagen_http_requests_total', { route: 'metrics', status: '200' })).toBe(1);
      expect(sample(body, 'mediagen_http_requests_total', { route: 'mcp', status: '200' })).toBeGreaterThan(0);
      // No principal, token or key in any label.
      expect(body).not.toContain('alice');
      expect(body).not.toContain(tokens.alice);
      expect(body).not.toContain(sandbox.key);
      expect(body).not.toContain(METRICS_TOKEN);
    } finally {
      await mcp.close();
      await server.stop();
    }
  });

  it('counts wrong metrics tokens against the address: past --http-auth-fail-rate it is 429, the right token too', async () => {
    const server = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_METRICS_TOKEN: METRICS_TOKEN }), [
      '--http-auth-fail-rate',
      '3/600',
    ]);
    const metricsUrl = server.url.replace(/\/mcp$/, '/metrics');
    try {
      // No token at all is no guess: not counted.
      for (let i = 0; i < 4; i++) expect((await scrape(metricsUrl)).status).toBe(401);
      expect((await scrape(metricsUrl, METRICS_TOKEN)).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await scrape(metricsUrl, `wrong-token-${i}-0123456789`)).status).toBe(401);
      const blocked = await fetch(metricsUrl, { headers: { Authorization: `Bearer wrong-token-x-0123456789` } });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await scrape(metricsUrl, METRICS_TOKEN)).status).toBe(429);
    } finally {
      await server.stop();
    }
  });

  it('is 404 without a metrics token or port; with --metrics-port only, served there and 404 on the MCP port', async () => {
    const plain = await spawnHttp(phayaEnv(sandbox));
    try {
      const res = await scrape(plain.url.replace(/\/mcp$/, '/metrics'), 'anything-at-all-0123');
      expect(res.status).toBe(404);
    } finally {
      await plain.stop();
    }
    const ported = await spawnHttp(phayaEnv(sandbox), ['--metrics-port', '0']);
    try {
      expect((await scrape(ported.url.replace(/\/mcp$/, '/metrics'), METRICS_TOKEN)).status).toBe(404);
      const url = await metricsUrlOf(ported.stderr);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const { status, body } = await scrape(url);
      expect(status).toBe(200);
      expect(sample(body, 'mediagen_store_up')).toBe(1);
    } finally {
      await ported.stop();
    }
  });
});

describe('--metrics-port', () => {
  it('serves a stdio server on 127.0.0.1 only, without a token, and counts its calls', async () => {
    const env = phayaEnv(sandbox);
    const s = await spawnStdio(env, ['--metrics-port', '0']);
    try {
      const url = await metricsUrlOf(s.stderr);
      const port = new URL(url).port;
      expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
      const first = await scrape(url);
      expect(first.status).toBe(200);
      expect(total(first.body, 'mediagen_provider_requests_total')).toBe(0);
      expect(sc(await s.call(T2I, { prompt: 'a kite' })).job_id).toEqual(expect.any(String));
      const { body } = await scrape(url);
      expect(sample(body, 'mediagen_provider_requests_total', { provider: 'phaya', class: 'accepted' })).toBe(1);
      expect(sample(body, 'mediagen_tool_calls_total', { tool: T2I, outcome: 'ok' })).toBe(1);
      expect(sample(body, 'mediagen_credits', { provider: 'phaya', state: 'committed' })).toBe(1);
      expect((await scrape(url.replace('/metrics', '/mcp'))).status).toBe(404);
      // Not reachable on any other address of this machine.
      const external = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal);
      if (external) await expect(fetch(`http://${external.address}:${port}/metrics`)).rejects.toThrow();
    } finally {
      await s.close();
    }
    // After a restart the counters start again, and the money read from the ledger is what it was.
    const again = await spawnStdio(env, ['--metrics-port', '0']);
    try {
      const { body } = await scrape(await metricsUrlOf(again.stderr));
      expect(total(body, 'mediagen_provider_requests_total')).toBe(0);
      expect(sample(body, 'mediagen_credits', { provider: 'phaya', state: 'committed' })).toBe(1);
      expect(total(body, 'mediagen_open_jobs')).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('answers a loopback Host only (DNS rebinding is refused), and binds [::1] written with brackets', async () => {
    const s = await spawnStdio(phayaEnv(sandbox), ['--metrics-port', '0']);
    try {
      const url = new URL(await metricsUrlOf(s.stderr));
      const withHost = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            { host: url.hostname, port: url.port, path: '/metrics', headers: { Host: host } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await withHost(`evil.example:${url.port}`)).toBe(403);
      expect(await withHost('127.0.0.1.evil.example')).toBe(403);
      for (const ok of [`127.0.0.1:${url.port}`, `localhost:${url.port}`, 'localhost', `[::1]:${url.port}`])
        expect(await withHost(ok), ok).toBe(200);
    } finally {
      await s.close();
    }
    const v6 = await spawnStdio(phayaEnv(sandbox), ['--metrics-port', '0', '--metrics-host', '[::1]']);
    try {
      const url = await metricsUrlOf(v6.stderr);
      expect(url).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/);
      expect((await scrape(url)).status).toBe(200);
    } finally {
      await v6.close();
    }
  });

  it('refuses a non-loopback address at start (exit 2)', async () => {
    const proc = spawn(process.execPath, [CLI, '--metrics-port', '0', '--metrics-host', '0.0.0.0'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/metricsHost: metrics are served on a loopback address only/);
  });
});
