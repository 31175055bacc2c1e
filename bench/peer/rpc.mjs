// A minimal MCP client over stdio for benchmarks: spawn a server, speak line-delimited JSON-RPC, read
// the child's CPU time and RSS from /proc (Linux). No SDK in the measuring path.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU time (user + system, ms) and RSS (MB) of a process, from /proc. */
export function usage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { cpuMs, rssMb: Math.round((rssKb / 1024) * 10) / 10 };
  } catch {
    return { cpuMs: NaN, rssMb: NaN };
  }
}

export class StdioServer {
  constructor(command, args, env) {
    this.spawnedAt = performance.now();
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.pending = new Map();
    this.nextId = 1;
    this.stderr = '';
    this.junk = [];
    let buf = '';
    this.child.stdout.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          this.junk.push(line.slice(0, 200));
          continue;
        }
        const p = this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.resolve({ msg, at: performance.now(), bytes: Buffer.byteLength(line) });
        }
      }
    });
    this.child.stderr.on('data', (d) => {
      if (this.stderr.length < 20_000) this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
  }

  get pid() {
    return this.child.pid;
  }

  request(method, params, timeoutMs = 60_000) {
    const id = this.nextId++;
    const sentAt = performance.now();
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out; stderr: ${this.stderr.slice(-500)}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve({ ...r, ms: r.at - sentAt });
        },
      });
    });
    this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    return answer;
  }

  notify(method, params = {}) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
  }

  initialize() {
    return this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench-peer', version: '1' },
    });
  }

  async call(name, args) {
    const r = await this.request('tools/call', { name, arguments: args });
    return { ...r, result: r.msg.result, error: r.msg.error };
  }

  async close() {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const r1 = (x) => Math.round(x * 10) / 10;
export const r2 = (x) => Math.round(x * 100) / 100;
