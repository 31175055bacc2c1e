/**
 * What sessions cost the server's memory, and that the session caps bound it: one principal opens
 * ATTEMPTS stateful sessions (raw initialize + notifications/initialized over Streamable HTTP) against a
 * server in a child process, once with the default caps and once with caps raised above ATTEMPTS. Measured:
 * sessions opened and refused, and the server's RSS (from /proc) before and after.
 * Writes bench/results/http-sessions.json. Linux only (/proc).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ATTEMPTS = Number(process.env.BENCH_SESSIONS ?? 1000);
const ROOT = new URL('..', import.meta.url).pathname;
const HEADERS = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

function serve(env) {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), '--transport', 'http', '--port', '0'], {
    env: { PATH: process.env.PATH, MEDIAGEN_STATE_DIR: mkdtempSync(join(tmpdir(), 'bench-sessions-')), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = /Streamable HTTP on (http:\/\/\S+\/mcp)/.exec(log);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.once('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
}

async function openOne(url) {
  const init = await fetch(url, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    }),
  });
  await init.text();
  if (init.status !== 200) return init.status;
  const sid = init.headers.get('mcp-session-id');
  const note = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await note.text();
  return 200;
}

async function run(label, env) {
  const { proc, url } = await serve({ MEDIAGEN_HTTP_RATE: 'off', ...env });
  await new Promise((r) => setTimeout(r, 500));
  const before = rssMb(proc.pid);
  const statuses = {};
  for (let i = 0; i < ATTEMPTS; i++) {
    const s = await openOne(url);
    statuses[s] = (statuses[s] ?? 0) + 1;
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = rssMb(proc.pid);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  const row = {
    caps: label,
    attempts: ATTEMPTS,
    opened: statuses[200] ?? 0,
    refused: ATTEMPTS - (statuses[200] ?? 0),
    statuses,
    rss_before_mb: before,
    rss_after_mb: after,
  };
  console.log(JSON.stringify(row));
  return row;
}

const rows = [
  await run('default (100 per principal, 1000 in all)', {}),
  await run(`raised above ${ATTEMPTS}`, {
    MEDIAGEN_HTTP_MAX_SESSIONS: String(ATTEMPTS * 2),
    MEDIAGEN_HTTP_MAX_SESSIONS_PER_PRINCIPAL: String(ATTEMPTS * 2),
  }),
];
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench/results/http-sessions.json'),
  JSON.stringify({ date: new Date().toISOString().slice(0, 10), node: process.version, rows }, null, 2) + '\n',
);
