/**
 * SIGTERM and SIGHUP to the command line while a paid create is in flight: the built bin, a sandbox whose
 * create answer stalls (its request counter says how many creates reached it), a real SQLite ledger read
 * back by a second command on the same state folder.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { CLI } from '../helpers/paths.js';
import { runPiped, type Ran } from '../helpers/terminal.js';

const PHAYA_DEFAULT = 'https://api.phaya.io/api/v1';
let stalling: Sandbox;

beforeAll(async () => {
  // The create is answered (and the job made) only after 2.5 s: long enough to be signalled mid-request.
  stalling = await startSandbox({ pollsToComplete: 3, slowMs: 2_500 });
});
afterAll(async () => {
  await stalling?.close();
});

const creates = (sandbox = stalling): number =>
  sandbox.stats().requests.filter((q) => q.method === 'POST' && q.path.includes('text-to-image')).length;

/** Run `call` with pipes; once its paid POST has reached the provider, send `signal` to the process. */
function callAndSignal(
  env: Record<string, string>,
  signal: NodeJS.Signals,
  sandbox = stalling,
): Promise<Ran & { signal: string | null }> {
  const before = creates(sandbox);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'call', 'phaya_text_to_image', 'prompt=sandbox:slow a pond'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    let polls = 0;
    const poll = setInterval(() => {
      if (creates(sandbox) > before) {
        clearInterval(poll);
        child.kill(signal);
      } else if (++polls > 400) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 50);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

function envFor(sandbox = stalling): Record<string, string> {
  return {
    PHAYA_BASE: sandbox.baseUrl('phaya', PHAYA_DEFAULT),
    PHAYA_API_KEY: sandbox.key,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_POLL_MS: '100',
  };
}

describe('command line: SIGTERM and SIGHUP during a paid create', () => {
  it('a create still unanswered after --drain-seconds is left uncertain (never reserved) and answered OUTCOME_UNKNOWN', async () => {
    // The create would be answered only after 60 s; the command is given 1 s to finish after SIGTERM.
    const stuck = await startSandbox({ slowMs: 60_000 });
    try {
      const env = { ...envFor(stuck), MEDIAGEN_DRAIN_SECONDS: '1' };
      const r = await callAndSignal(env, 'SIGTERM', stuck);
      expect(r.code, JSON.stringify(r)).toBe(143);
      expect(r.stderr).toContain('SIGTERM: no answer within 1 s; leaving it uncertain');
      expect(r.stdout).toContain('OUTCOME_UNKNOWN');
      const spend = await runPiped(['spend', '--json'], env);
      const report = JSON.parse(spend.stdout) as { entries: { state: string }[] };
      expect(report.entries).toEqual([expect.objectContaining({ state: 'uncertain' })]);
      expect(creates(stuck)).toBe(1);
    } finally {
      await stuck.close();
    }
  });

  it('the terminal closing (SIGHUP from a real pseudo-terminal, writes failing) still records the create', async () => {
    const env = envFor();
    const before = creates();
    // The shell prints its pid, then becomes the command (exec): that pid is the command line's.
    const command = `echo "pid $$"; exec ${process.execPath} ${CLI} call phaya_text_to_image 'prompt=sandbox:slow a pier'`;
    const term = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let shown = '';
    term.stdout.on('data', (d: Buffer) => (shown += d.toString()));
    const gone = new Promise((resolve) => term.on('close', resolve));
    for (let i = 0; i < 400 && creates() === before; i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(/pid (\d+)/.exec(shown)?.[1]);
    expect(pid, shown).toBeGreaterThan(0);
    term.kill('SIGKILL'); // the terminal is gone: the kernel hangs up on the command
    await gone;
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 600 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
    const spend = await runPiped(['spend', '--json'], env);
    const report = JSON.parse(spend.stdout) as { entries: { job_id?: string; state: string }[] };
    expect(report.entries).toEqual([expect.objectContaining({ state: 'committed' })]);
    expect(report.entries[0].job_id).toMatch(/^job_/);
    expect(creates()).toBe(before + 1);
  });

  it('SIGTERM at the y/N question answers No: CONSENT_DECLINED, zero creates, exit 143', async () => {
    const env = envFor();
    const before = stalling.stats().requests.filter((q) => q.method === 'POST').length;
    const command = `echo "pid $$"; exec ${process.execPath} ${CLI} call phaya_veo31_video 'prompt=a lighthouse'`;
    const term = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let shown = '';
    term.stdout.on('data', (d: Buffer) => (shown += d.toString()));
    const closed = new Promise<number | null>((resolve) => term.on('close', resolve));
    for (let i = 0; i < 600 && !shown.includes('[y/N]'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(shown).toContain('[y/N]');
    process.kill(Number(/pid (\d+)/.exec(shown)?.[1]), 'SIGTERM');
    expect(await closed, shown).toBe(143);
    expect(shown).toContain('CONSENT_DECLINED');
    expect(stalling.stats().requests.filter((q) => q.method === 'POST')).toHaveLength(before);
  });

  for (const [signal, exit] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal} lets the create finish: the job is in the ledger, its reservation committed, one create, exit ${exit}`, async () => {
      const env = envFor();
      const before = creates();
      const r = await callAndSignal(env, signal);
      expect(r.signal, JSON.stringify(r)).toBeNull();
      expect(r.code, JSON.stringify(r)).toBe(exit);
      expect(r.stderr).toContain(`${signal}: stopping; a request in flight is answered and recorded first`);
      const id = /Job (job_\S+) started/.exec(r.stdout)?.[1];
      expect(id, r.stdout).toBeDefined();
      // A second command on the same state folder reads the ledger the first one wrote.
      const jobs = await runPiped(['jobs', 'list', '--json'], env);
      expect(jobs.code, jobs.stderr).toBe(0);
      expect(jobs.stdout).toContain(id!);
      const spend = await runPiped(['spend', '--json'], env);
      expect(spend.code, spend.stderr).toBe(0);
      const report = JSON.parse(spend.stdout) as { entries: { job_id?: string; state: string }[] };
      expect(report.entries).toEqual([expect.objectContaining({ job_id: id, state: 'committed' })]);
      expect(creates()).toBe(before + 1);
    });
  }
});
