/**
 * HTTP throughput and latency: calls/s and p50/p99 of `models` (free, no provider request) and `jobs_get`
 * (a finished job: one store read) over Streamable HTTP with 1, 8 and 64 concurrent clients, stateful and
 * stateless, SQLite and PostgreSQL (when DATABASE_URL is set); and, in the same run, the same load on
 * @ivotoby/openapi-mcp-server over its Streamable HTTP on an equivalent route (a GET /models tool whose
 * upstream is a local static answer). The server runs in a child process; this process is the load.
 * Writes bench/results/http.json. Bounded: each cell runs for SECONDS, then stops.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = [1, 8, 64];
const ROOT = new URL('..', import.meta.url).pathname;
const HEADERS = {
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
  'mcp-protocol-version': '2025-11-25',
};

function spawnServer(cmd, args, env, pattern) {
  const proc = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      log += d.toString();
      const m = pattern.exec(log);
      if (m) resolve({ proc, url: m[1] });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
}

let nextId = 1;
async function rpc(dispatcher, url, method, params, session) {
  const headers = { ...HEADERS, ...(session ? { 'mcp-session-id': session } : {}) };
  const res = await request(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    dispatcher,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200 && res.statusCode !== 202) throw new Error(`${method}: HTTP ${res.statusCode} ${text}`);
  const sid = res.headers['mcp-session-id'];
  const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
  const msg = JSON.parse(json);
  if (msg.error || msg.result?.isError) throw new Error(`${method}: ${JSON.stringify(msg.error ?? msg.result)}`);
  return { result: msg.result, session: typeof sid === 'string' ? sid : undefined };
}

async function openSession(dispatcher, url, stateful) {
  if (!stateful) return undefined;
  const init = await rpc(dispatcher, url, 'initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'bench', version: '1' },
  });
  await request(url, {
    method: 'POST',
    headers: { ...HEADERS, 'mcp-session-id': init.session },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    dispatcher,
  }).then((r) => r.body.text());
  return init.session;
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null;
}

/** `clients` workers, each with its own session (stateful), calling `tool` back to back for SECONDS. */
async function cell(url, stateful, tool, args, clients) {
  const dispatcher = new Agent({ connections: clients, pipelining: 1 });
  const sessions = await Promise.all(Array.from({ length: clients }, () => openSession(dispatcher, url, stateful)));
  const lat = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    sessions.map(async (s) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await rpc(dispatcher, url, 'tools/call', { name: tool, arguments: args }, s);
          lat.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  await dispatcher.close();
  lat.sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    clients,
    calls: lat.length,
    errors,
    calls_per_s: Math.round(lat.length / wall),
    p50_ms: r(pct(lat, 50)),
    p99_ms: r(pct(lat, 99)),
  };
}

async function benchOurs(store, mode) {
  const env = { MEDIAGEN_STATE_DIR: mkdtempSync(join(tmpdir(), 'mg-bench-')), MEDIAGEN_LOG_LEVEL: 'warn' };
  if (store === 'postgres') env.DATABASE_URL = process.env.DATABASE_URL;
  const args = [join(ROOT, 'dist/cli.js'), '--transport', 'http', '--port', '0', '--sandbox', '--http-rate', 'off'];
  if (mode === 'stateless') args.push('--stateless');
  env.MEDIAGEN_LOG_LEVEL = 'info';
  const { proc, url } = await spawnServer(process.execPath, args, env, /Streamable HTTP on (http:\/\/\S+\/mcp)/);
  try {
    const setup = new Agent({ connections: 1 });
    const s = await openSession(setup, url, mode === 'stateful');
    const created = await rpc(
      setup,
      url,
      'tools/call',
      { name: 'phaya_text_to_image', arguments: { prompt: 'bench' } },
      s,
    );
    const jobId = created.result.structuredContent.job_id;
    await rpc(setup, url, 'tools/call', { name: 'jobs_wait', arguments: { job_id: jobId } }, s);
    await setup.close();
    const rows = [];
    for (const [tool, a] of [
      ['models', {}],
      ['jobs_get', { job_id: jobId }],
    ])
      for (const c of CONCURRENCY) {
        const r = await cell(url, mode === 'stateful', tool, a, c);
        rows.push({ server: 'mediagen-mcp', store, mode, tool, ...r });
        console.log(JSON.stringify(rows.at(-1)));
      }
    return rows;
  } finally {
    proc.kill('SIGTERM');
  }
}

/** The comparator: @ivotoby/openapi-mcp-server, one GET /models tool, upstream = a local static answer. */
async function benchOpenapi(models) {
  const cache = join(homedir(), '.cache', 'mediagen-bench');
  const bin = join(cache, 'node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js');
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--prefix', cache, '--no-save', '--no-audit', '--no-fund', '@ivotoby/openapi-mcp-server@1.16.1'],
      {
        stdio: 'inherit',
      },
    );
  }
  const body = JSON.stringify(models);
  const upstream = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const up = upstream.address().port;
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-oa-'));
  const spec = join(dir, 'openapi.json');
  writeFileSync(
    spec,
    JSON.stringify({
      openapi: '3.0.3',
      info: { title: 'models', version: '1' },
      paths: {
        '/models': {
          get: { operationId: 'models', summary: 'Model families', responses: { 200: { description: 'ok' } } },
        },
      },
    }),
  );
  const port = 20000 + Math.floor(Math.random() * 20000);
  const { proc, url } = await spawnServer(
    process.execPath,
    [
      bin,
      '--api-base-url',
      `http://127.0.0.1:${up}`,
      '--openapi-spec',
      spec,
      '--transport',
      'http',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {},
    /(listening|running|started)/i,
  ).then((s) => ({ ...s, url: `http://127.0.0.1:${port}/mcp` }));
  try {
    const setup = new Agent({ connections: 1 });
    const s = await openSession(setup, url, true);
    const tools = (await rpc(setup, url, 'tools/list', {}, s)).result.tools;
    await setup.close();
    const rows = [];
    for (const c of CONCURRENCY) {
      const r = await cell(url, true, tools[0].name, {}, c);
      rows.push({
        server: '@ivotoby/openapi-mcp-server@1.16.1',
        store: null,
        mode: 'stateful',
        tool: `${tools[0].name} (GET /models)`,
        ...r,
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
    return rows;
  } finally {
    proc.kill('SIGTERM');
    upstream.close();
  }
}

const rows = [];
for (const store of process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'])
  for (const mode of ['stateful', 'stateless']) rows.push(...(await benchOurs(store, mode)));
// The comparator serves the same JSON our `models` answers (what a client gets back is alike in size).
const ref = await spawnServer(
  process.execPath,
  [join(ROOT, 'dist/cli.js'), '--transport', 'http', '--port', '0', '--sandbox'],
  { MEDIAGEN_STATE_DIR: mkdtempSync(join(tmpdir(), 'mg-bench-')) },
  /Streamable HTTP on (http:\/\/\S+\/mcp)/,
);
const a = new Agent({ connections: 1 });
const modelsAnswer = (
  await rpc(a, ref.url, 'tools/call', { name: 'models', arguments: {} }, await openSession(a, ref.url, true))
).result;
await a.close();
ref.proc.kill('SIGTERM');
rows.push(...(await benchOpenapi(modelsAnswer.structuredContent)));

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench/results/http.json'),
  JSON.stringify(
    { date: new Date().toISOString().slice(0, 10), node: process.version, seconds_per_cell: SECONDS, rows },
    null,
    2,
  ) + '\n',
);
console.log('wrote bench/results/http.json');
process.exit(0);
