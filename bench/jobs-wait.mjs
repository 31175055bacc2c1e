// Benchmark: 200 concurrent jobs_wait calls in one server process against the sandbox gateway (run in a
// child process, so the event-loop figures are the server's own). Results -> bench/results/jobs-wait.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { silentLogger } from '../dist/log.js';

const N = Number(process.env.BENCH_JOBS ?? 200);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

async function startGateway() {
  const child = spawn(process.execPath, [cli, 'sandbox'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error('sandbox exited')));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

const mb = (n) => Math.round((n / 1024 / 1024) * 10) / 10;

async function main() {
  const gw = await startGateway();
  const { config } = loadConfig(['--consent-off', 'mediaio'], {
    MEDIAGEN_STATE_DIR: mkdtempSync(join(tmpdir(), 'mediagen-bench-')),
    MEDIAGEN_POLL_MS: '250',
  });
  const app = await createApp(config, silentLogger, {
    override: () => ({ baseUrl: `${gw.url}/mediaio`, key: 'sandbox-key' }),
  });
  const { server } = app.createMcpServer('bench');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench', version: '1' });
  await Promise.all([server.connect(a), client.connect(b)]);

  const ids = [];
  for (let i = 0; i < N; i++) {
    const r = await client.callTool({ name: 'mediaio_t2i_imagen_4', arguments: { prompt: `bench ${i}` } });
    if (r.isError) throw new Error(r.content[0].text);
    ids.push(r.structuredContent.job_id);
  }
  global.gc?.();
  const memBefore = process.memoryUsage();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const results = await Promise.all(
    ids.map((id) => client.callTool({ name: 'jobs_wait', arguments: { job_id: id } }, undefined, { timeout: 120_000 })),
  );
  const elapsed = performance.now() - t0;
  h.disable();
  const memPeak = process.memoryUsage();
  global.gc?.();
  const memAfter = process.memoryUsage();
  const ok = results.filter(
    (r) => !r.isError && r.structuredContent.status === 'succeeded' && r.structuredContent.outputs.length === 1,
  ).length;

  const out = {
    benchmark: 'jobs-wait',
    date: new Date().toISOString(),
    node: process.version,
    jobs: N,
    succeeded: ok,
    wallMs: Math.round(elapsed),
    eventLoopDelayMs: {
      p50: Math.round(h.percentile(50) / 1e4) / 100,
      p99: Math.round(h.percentile(99) / 1e4) / 100,
      max: Math.round(h.max / 1e4) / 100,
    },
    memoryMB: {
      heapBefore: mb(memBefore.heapUsed),
      heapPeak: mb(memPeak.heapUsed),
      heapAfterGc: mb(memAfter.heapUsed),
      heapGrowthAfterGc: mb(memAfter.heapUsed - memBefore.heapUsed),
      rssBefore: mb(memBefore.rss),
      rssAfter: mb(memAfter.rss),
    },
    gcExposed: typeof global.gc === 'function',
  };
  writeFileSync(new URL('./results/jobs-wait.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
  await client.close();
  await app.close();
  gw.stop();
  if (ok !== N) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
