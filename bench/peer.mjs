// Side by side with a generic OpenAPI->MCP server (@ivotoby/openapi-mcp-server, pinned): the same 13
// routes of the sandbox gateway, described once as our catalogue and once as an OpenAPI spec, served over
// stdio, interleaved in one run; then synthetic catalogues of 100 / 1,000 / 5,000 operations.
// Usage: node bench/peer.mjs [--reps 3] [--calls 150] [--ops 100,1000,5000] [--out file.json] [--no-readme]
// Exits 1 when a correctness figure is off (provider requests per call, a bad argument reaching the
// provider, failed calls, anything but JSON-RPC on stdout); never because of a time.
// Results -> bench/results/peer.json and a dated table in bench/README.md. Nothing here asserts a time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { median, r1, r2, StdioServer, usage } from './peer/rpc.mjs';
import { CATALOGUE_FILE, checkSameOperations, OPENAPI_FILE, readJson, synthetic } from './peer/specs.mjs';
import { writeReadme } from './peer/report.mjs';

const PEER = '@ivotoby/openapi-mcp-server@1.16.1';
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const REPS = Number(opt('reps', 3));
const CALLS = Number(opt('calls', 150));
const SIZES = String(opt('ops', '100,1000,5000')).split(',').map(Number).filter(Boolean);
const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'dist/cli.js');
const enc = new Tiktoken(o200k);
const tmp = mkdtempSync(join(tmpdir(), 'mediagen-peer-'));

/** The peer, installed once into bench/.peer (not a dependency of the product). */
function peerBin() {
  const dir = join(root, 'bench/.peer');
  const bin = join(dir, 'node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
    console.error(`installing ${PEER} into bench/.peer ...`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', PEER], { cwd: dir, stdio: 'inherit' });
  }
  return bin;
}

const { startSandbox } = await import('../dist/sandbox/index.js');
const sandbox = await startSandbox();
const base = sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1');
const BIN = peerBin();
const catalogue = readJson(CATALOGUE_FILE);
const openapi = readJson(OPENAPI_FILE);
const operations = checkSameOperations(catalogue, openapi);

const servers = {
  ours: (catFile) =>
    new StdioServer(process.execPath, [CLI, '--catalogue', catFile], {
      PATH: process.env.PATH ?? '',
      MEDIAGEN_STATE_DIR: mkdtempSync(join(tmp, 'state-')),
      GATEWAY_BASE: base,
      GATEWAY_KEY: sandbox.key,
      MEDIAGEN_CAP_SESSION: 'gateway=1000000',
      MEDIAGEN_CAP_DAY: 'gateway=1000000',
      MEDIAGEN_LOG_LEVEL: 'warn',
    }),
  peer: (specFile) =>
    new StdioServer(
      process.execPath,
      [
        BIN,
        ...['--api-base-url', base, '--openapi-spec', specFile, '--headers', `Authorization:Bearer ${sandbox.key}`],
        ...['--transport', 'stdio', '--verbose', 'false'],
      ],
      { PATH: process.env.PATH ?? '' },
    ),
};
const order = (rep) => (rep % 2 ? ['peer', 'ours'] : ['ours', 'peer']);

/** Spawn -> initialized -> tools/list: wall and CPU time, RSS, the listed tools. */
async function start(s) {
  const init = await s.initialize();
  const startMs = init.at - s.spawnedAt;
  const { cpuMs } = usage(s.pid);
  s.notify('notifications/initialized');
  const list = await s.request('tools/list', {});
  return { startMs, cpuMs, listMs: list.at - s.spawnedAt, rssMb: usage(s.pid).rssMb, list };
}

const FREE = /user.?credits|usr-credits/;
const PAID = /(^|_)text.?to.?image$/;
const agent = new Agent({ connections: 8 });
const direct = {
  free: () =>
    request(`${base}/user/credits`, { headers: { authorization: `Bearer ${sandbox.key}` }, dispatcher: agent }),
  paid: () =>
    request(`${base}/text-to-image/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a cat', aspect_ratio: '1:1' }),
      dispatcher: agent,
    }),
};

async function timedDirect(kind) {
  const ms = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    const res = await direct[kind]();
    await res.body.text();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

async function timedCalls(s, name, args, n) {
  const ms = [];
  const before = sandbox.stats().total;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const r = await s.call(name, args);
    if (r.error || r.result?.isError) errors++;
    ms.push(r.ms);
  }
  return { medianMs: median(ms), requestsPerCall: (sandbox.stats().total - before) / n, errors };
}

async function gatewayRun(kind) {
  const s = servers[kind](kind === 'ours' ? fileURLToPath(CATALOGUE_FILE) : fileURLToPath(OPENAPI_FILE));
  try {
    const st = await start(s);
    const tools = st.list.msg.result.tools;
    const catalogueTools = tools.filter((t) => kind === 'peer' || t.name.startsWith('gateway_'));
    const free = tools.find((t) => FREE.test(t.name)).name;
    const paid = tools.find((t) => PAID.test(t.name)).name;
    await timedCalls(s, free, {}, 5); // warm-up
    const freeCalls = await timedCalls(s, free, {}, CALLS);
    const paidCalls = await timedCalls(s, paid, { prompt: 'a cat' }, CALLS);
    const bad = await timedCalls(s, paid, { prompt: 'a cat', aspect_ratio: '7:7' }, 5);
    const after = usage(s.pid);
    const tokens = catalogueTools.map((t) => enc.encode(JSON.stringify(t)).length);
    return {
      startMs: st.startMs,
      startCpuMs: st.cpuMs,
      listMs: st.listMs,
      rssAfterListMb: st.rssMb,
      rssAfterCallsMb: after.rssMb,
      tools: tools.length,
      listBytes: st.list.bytes,
      tokensPerTool: tokens.reduce((a, b) => a + b, 0) / tokens.length,
      free: freeCalls,
      paid: paidCalls,
      badArgumentRequestsPerCall: bad.requestsPerCall,
      badArgumentRefused: bad.errors === 5,
      junkOnStdout: s.junk.length,
    };
  } finally {
    await s.close();
  }
}

async function syntheticRun(kind, files) {
  const s = servers[kind](files[kind]);
  try {
    const st = await start(s);
    return {
      startMs: st.startMs,
      startCpuMs: st.cpuMs,
      listMs: st.listMs,
      rssMb: st.rssMb,
      tools: st.list.msg.result.tools.length,
    };
  } finally {
    await s.close();
  }
}

const med = (runs, f) => r1(median(runs.map(f)));
function summarise(runs) {
  return {
    startMs: med(runs, (r) => r.startMs),
    startCpuMs: med(runs, (r) => r.startCpuMs),
    listMs: med(runs, (r) => r.listMs),
    rssAfterListMb: med(runs, (r) => r.rssAfterListMb ?? r.rssMb),
    ...(runs[0].free
      ? {
          rssAfterCallsMb: med(runs, (r) => r.rssAfterCallsMb),
          tools: runs[0].tools,
          listBytes: runs[0].listBytes,
          tokensPerTool: r1(runs[0].tokensPerTool),
          freeCallMs: r2(median(runs.map((r) => r.free.medianMs))),
          paidCallMs: r2(median(runs.map((r) => r.paid.medianMs))),
          requestsPerFreeCall: runs.map((r) => r.free.requestsPerCall),
          requestsPerPaidCall: runs.map((r) => r.paid.requestsPerCall),
          callErrors: runs.reduce((n, r) => n + r.free.errors + r.paid.errors, 0),
          badArgumentRequestsPerCall: runs.map((r) => r.badArgumentRequestsPerCall),
          badArgumentRefused: runs.every((r) => r.badArgumentRefused),
          junkOnStdout: runs.reduce((n, r) => n + r.junkOnStdout, 0),
        }
      : { tools: runs[0].tools }),
  };
}

console.error(`gateway: ${operations} operations; ${REPS} repetitions, ${CALLS} calls of each kind`);
const runs = { ours: [], peer: [] };
const directMs = { free: [], paid: [] };
for (let rep = 0; rep < REPS; rep++) {
  for (const kind of order(rep)) runs[kind].push(await gatewayRun(kind));
  directMs.free.push(await timedDirect('free'));
  directMs.paid.push(await timedDirect('paid'));
  console.error(`  rep ${rep + 1}: ours ${r1(runs.ours.at(-1).startMs)} ms, peer ${r1(runs.peer.at(-1).startMs)} ms`);
}
const gateway = { ours: summarise(runs.ours), peer: summarise(runs.peer) };
const directFree = median(directMs.free);
const directPaid = median(directMs.paid);
for (const k of ['ours', 'peer']) {
  gateway[k].freeOverheadMs = r2(gateway[k].freeCallMs - directFree);
  gateway[k].paidOverheadMs = r2(gateway[k].paidCallMs - directPaid);
}

const scale = {};
for (const n of SIZES) {
  const { catalogue: c, openapi: o } = synthetic(n, catalogue, openapi);
  checkSameOperations(c, o);
  const files = { ours: join(tmp, `cat-${n}.json`), peer: join(tmp, `openapi-${n}.json`) };
  writeFileSync(files.ours, JSON.stringify(c));
  writeFileSync(files.peer, JSON.stringify(o));
  const r = { ours: [], peer: [] };
  for (let rep = 0; rep < REPS; rep++) for (const kind of order(rep)) r[kind].push(await syntheticRun(kind, files));
  scale[n] = { ours: summarise(r.ours), peer: summarise(r.peer) };
  console.error(
    `  ${n} ops: ours ${scale[n].ours.startMs} ms / ${scale[n].ours.rssAfterListMb} MB, peer ${scale[n].peer.startMs} ms / ${scale[n].peer.rssAfterListMb} MB`,
  );
}

const result = {
  benchmark: 'peer',
  peer: PEER,
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  repetitions: REPS,
  callsPerKind: CALLS,
  directHttpMs: { free: r2(directFree), paid: r2(directPaid) },
  gateway,
  scale,
};
const out = opt('out', fileURLToPath(new URL('./results/peer.json', import.meta.url)));
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
if (!argv.includes('--no-readme')) writeReadme(result);
console.log(JSON.stringify({ gateway, scale }, null, 2));
await agent.close();
await sandbox.close();
const o = gateway.ours;
const wrong = [
  ...[...o.requestsPerFreeCall, ...o.requestsPerPaidCall].filter((x) => x !== 1).map((x) => `${x} requests per call`),
  ...o.badArgumentRequestsPerCall.filter((x) => x !== 0).map((x) => `${x} requests per bad argument`),
  ...(o.badArgumentRefused ? [] : ['a bad argument was not refused']),
  ...(o.callErrors ? [`${o.callErrors} failed calls`] : []),
  ...(o.junkOnStdout ? [`${o.junkOnStdout} non-JSON-RPC lines on stdout`] : []),
];
if (wrong.length) {
  console.error(`bench:peer: ${wrong.join('; ')}`);
  process.exitCode = 1;
}
