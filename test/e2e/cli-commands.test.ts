/**
 * The command line end to end: the built bin, the sandbox on loopback (its request counter proves what was
 * sent), a real SQLite ledger, and both ways consent is asked: a real pseudo-terminal (y/N) and a pipe
 * (CONFIRMATION_REQUIRED + --confirm-token).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { runInPty, runPiped } from '../helpers/terminal.js';

let sandbox: Sandbox;
let env: Record<string, string>;
const PHAYA_DEFAULT = 'https://api.phaya.io/api/v1';

/** Provider requests that could create or spend (every POST the sandbox received). */
const posts = () => sandbox.stats().requests.filter((r) => r.method === 'POST').length;

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 3 });
  env = {
    PHAYA_BASE: sandbox.baseUrl('phaya', PHAYA_DEFAULT),
    PHAYA_API_KEY: sandbox.key,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_POLL_MS: '100',
    MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
  };
});
afterAll(async () => {
  await sandbox?.close();
});

describe('command line: consent without a terminal (pipe)', () => {
  it('prints CONFIRMATION_REQUIRED with a confirm_token and exits 3, sending nothing', async () => {
    const before = posts();
    const r = await runPiped(['call', 'phaya_veo31_video', 'prompt=a lighthouse', '--json'], env);
    expect(r.code, r.stderr).toBe(3);
    const answer = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(answer).toMatchObject({ is_error: true, code: 'CONFIRMATION_REQUIRED', tool: 'phaya_veo31_video' });
    expect(answer.confirm_token).toMatch(/^ct_/);
    expect(r.stderr).toContain(`--confirm-token ${String(answer.confirm_token)}`);
    expect(posts()).toBe(before);
  });

  it('--confirm-token runs the same call once; the token cannot be used again', async () => {
    const first = await runPiped(['call', 'phaya_veo31_video', 'prompt=a harbour'], env);
    expect(first.code).toBe(3);
    // Said as the command to run, not as a tool call for an agent.
    const token = /\n {2}mediagen-mcp call phaya_veo31_video 'prompt=a harbour' --confirm-token (ct_\S+)\n/.exec(
      first.stdout,
    )?.[1];
    expect(token, first.stdout).toBeDefined();
    expect(first.stdout).toContain('If you approve, run (valid once, for 10 min');
    expect(first.stdout).toContain('Needs your approval:');
    expect(first.stdout).not.toMatch(/confirm_token|the user|call phaya_veo31_video again/i);
    const before = posts();
    const run = await runPiped(['call', 'phaya_veo31_video', 'prompt=a harbour', '--confirm-token', token!], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Job job_\S+ started: phaya_veo31_video/);
    expect(posts()).toBe(before + 1);
    const again = await runPiped(['call', 'phaya_veo31_video', 'prompt=a harbour', '--confirm-token', token!], env);
    expect(again.code).toBe(3);
    expect(posts()).toBe(before + 1);
  });
});

describe('command line: consent on a terminal (pseudo-terminal)', () => {
  it('shows tool, arguments, price and balance; "y" runs the call', async () => {
    const before = posts();
    const r = await runInPty(['call', 'phaya_veo31_video', 'prompt=a kite'], env, [{ when: '[y/N]', send: 'y\r' }]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('phaya_veo31_video');
    expect(r.stdout).toContain('prompt="a kite"');
    expect(r.stdout).toContain('Price: 15 credits');
    expect(r.stdout).toMatch(/Balance: [\d.]+ credits/);
    expect(r.stdout).toMatch(/Job job_\S+ started/);
    expect(posts()).toBe(before + 1);
  });

  it('the default (Enter) is No: CONSENT_DECLINED, exit 3, no provider request sent', async () => {
    const before = posts();
    const r = await runInPty(['call', 'phaya_veo31_video', 'prompt=a kite'], env, [{ when: '[y/N]', send: '\r' }]);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('CONSENT_DECLINED');
    expect(posts()).toBe(before);
  });

  it('an operator who requires tokens (--consent token) gets the token answer even on a terminal', async () => {
    const before = posts();
    const r = await runInPty(['call', 'phaya_veo31_video', 'prompt=a kite', '--consent', 'token'], env);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('CONFIRMATION_REQUIRED');
    expect(r.stdout).not.toContain('[y/N]');
    expect(posts()).toBe(before);
  });

  it('a call under the consent threshold runs without a question', async () => {
    const r = await runInPty(['call', 'phaya_text_to_image', 'prompt=a cup'], env);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toContain('[y/N]');
  });
});

describe('command line: commands, typed arguments and exit codes', () => {
  it('describe shows schema, price and consent rule; quote prices without sending', async () => {
    const l = await runPiped(['list', '--toolsets', 'video', '--json'], env);
    expect(l.code).toBe(0);
    const listed = JSON.parse(l.stdout) as { name: string }[];
    expect(listed.map((t) => t.name)).toContain('phaya_veo31_video');
    expect(listed.map((t) => t.name)).not.toContain('phaya_text_to_image');
    const d = await runPiped(['describe', 'phaya_veo31_video'], env);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('Price: 15 credits (veo3_fast) or 50 (veo3). Needs confirmation.');
    expect(d.stdout).toMatch(/model=string \(one of veo3_fast\|veo3, default "veo3_fast"\)/);
    // lengths, ranges and item counts of every argument
    expect(d.stdout).toContain('  prompt=string (required, length 1–2000)');
    expect(d.stdout).toContain('  seeds=integer (range 10000–99999)');
    expect(d.stdout).toMatch(/ {2}image_urls=string\[\] \(items ≤ 3, each a URL\)/);
    expect(d.stdout).toContain('  watermark=string (length ≤ 50)');
    const before = posts();
    const q = await runPiped(['quote', 'phaya_veo31_video', 'prompt=x', 'model=veo3', '--json'], env);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toMatchObject({ tool: 'phaya_veo31_video', consent: { needed: true } });
    expect(posts()).toBe(before);
  });

  it('types values from the schema (integers, "5s", booleans, repeated keys for arrays)', async () => {
    const q = await runPiped(
      ['quote', 'phaya_veo31_video', 'prompt=x', 'seeds=12345', 'enable_translation=false', '--json'],
      env,
    );
    expect(q.code, q.stdout).toBe(0);
    const sd = await runPiped(
      ['quote', 'phaya_seedance', 'prompt=a fox', 'duration=4s', 'resolution=480p', '--json'],
      env,
    );
    expect(sd.code, sd.stdout).toBe(0);
    expect(JSON.parse(sd.stdout)).toMatchObject({ tool: 'phaya_seedance', price: { credits: expect.any(Number) } });
    const bad = await runPiped(['quote', 'phaya_veo31_video', 'prompt=x', 'seeds=many'], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('BAD_ARGUMENTS');
    const arr = await runPiped(
      [
        'quote',
        'phaya_veo31_video',
        'prompt=x',
        'image_urls=https://a.example/1.png',
        'image_urls=https://a.example/2.png',
      ],
      env,
    );
    expect(arr.code, arr.stdout).toBe(0);
  });

  it('bad usage exits 2 with one line on stderr', async () => {
    for (const args of [
      ['call'],
      ['call', 'no_such_tool'],
      ['call', 'phaya_text_to_image', 'prompt'],
      ['call', 'phaya_text_to_image', 'prompt=x', 'bogus=1'],
      ['jobs', 'frobnicate'],
      ['call', 'phaya_text_to_image', '--no-such-flag'],
      ['call', 'phaya_text_to_image', '--json-args', '[1]'],
    ]) {
      const r = await runPiped(args, env);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it('a cap exits 4 (BUDGET_EXCEEDED) and sends nothing', async () => {
    const before = posts();
    const r = await runPiped(['call', 'phaya_text_to_image', 'prompt=x', '--cap-day', 'phaya=0.5'], env);
    expect(r.code, r.stdout).toBe(4);
    expect(r.stdout).toContain('BUDGET_EXCEEDED');
    expect(posts()).toBe(before);
  });

  it('call --wait --download DIR: plain progress lines on stderr, the file saved, exit 0; jobs and spend see it', async () => {
    const dir = tempDir('mediagen-cli-out-');
    const r = await runPiped(['call', 'phaya_text_to_image', 'prompt=a boat', '--wait', '--download', dir], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/job_\S+: (pending|running)/);
    expect(r.stderr).toMatch(/job_\S+: succeeded 100%/);
    expect(r.stderr).not.toContain('\r');
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    const id = /Job (job_\S+) started/.exec(r.stdout)![1];
    const list = await runPiped(['jobs', 'list', '--json'], env);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { jobs: { job_id: string }[] }).jobs.map((j) => j.job_id)).toContain(id);
    const get = await runPiped(['jobs', 'get', id, '--json'], env);
    expect(JSON.parse(get.stdout)).toMatchObject({ job_id: id, status: 'succeeded' });
    const spend = await runPiped(['spend', '--json'], env);
    expect(spend.code).toBe(0);
    // the provider key never reaches the terminal, whatever the command
    for (const out of [r, list, get, spend]) expect(out.stdout + out.stderr).not.toContain(sandbox.key);
    expect(existsSync(join(env.MEDIAGEN_STATE_DIR))).toBe(true);
  });

  it('a failed job makes the wait exit 1', async () => {
    const r = await runPiped(['call', 'phaya_text_to_image', 'prompt=sandbox:fail', '--wait'], env);
    expect(r.code, r.stdout).toBe(1);
  });
});

describe('command line: progress on a terminal and Ctrl-C', () => {
  it('Ctrl-C during a paid create finishes the request first: the job is recorded and committed', async () => {
    const stalling = await startSandbox({ pollsToComplete: 3, slowMs: 2_500 });
    try {
      const e = { ...env, PHAYA_BASE: stalling.baseUrl('phaya', PHAYA_DEFAULT), MEDIAGEN_STATE_DIR: tempDir() };
      const r = await runInPty(['call', 'phaya_text_to_image', 'prompt=sandbox:slow a pond'], e, [
        // Ctrl-C once the paid POST has reached the provider (it stalls there for 2.5 s)
        { when: () => stalling.stats().requests.some((q) => q.method === 'POST'), send: '\x03', delayMs: 300 },
      ]);
      expect(r.stdout, JSON.stringify(r)).toContain('finishing the request in flight first');
      expect(r.code, r.stdout).toBe(0);
      const id = /Job (job_\S+) started/.exec(r.stdout)![1];
      const spend = await runPiped(['spend', '--json'], e);
      expect(spend.stdout).toContain(id);
      expect(spend.stdout).toContain('committed');
      expect(stalling.stats().requests.filter((q) => q.method === 'POST')).toHaveLength(1);
    } finally {
      await stalling.close();
    }
  });

  it('draws a bar on the terminal; Ctrl-C stops waiting, does not cancel the job and says how to resume; jobs cancel', async () => {
    const slow = await startSandbox({ pollsToComplete: 100_000 });
    try {
      const slowEnv = { ...env, PHAYA_BASE: slow.baseUrl('phaya', PHAYA_DEFAULT), MEDIAGEN_STATE_DIR: tempDir() };
      const created = await runPiped(['call', 'phaya_text_to_image', 'prompt=a slow one'], slowEnv);
      const id = /Job (job_\S+) started/.exec(created.stdout)![1];
      const r = await runInPty(['jobs', 'wait', id], slowEnv, [{ when: 'running', send: '\x03' }]);
      expect(r.code, r.stdout).toBe(130);
      expect(r.stdout).toContain(`\r\u001b[2K${id} [`);
      expect(r.stdout).toContain(`Resume with: mediagen-mcp jobs wait ${id}`);
      const cancels = slow.stats().requests.filter((q) => q.path.includes('cancel'));
      expect(cancels).toHaveLength(0);
      const get = await runPiped(['jobs', 'get', id, '--json'], slowEnv);
      expect(JSON.parse(get.stdout)).toMatchObject({ job_id: id, status: 'running' });
      // jobs cancel: NOT_SUPPORTED where the provider documents no cancel route (exit 1); cancelled where it does
      const refused = await runPiped(['jobs', 'cancel', id], slowEnv);
      expect(refused.code, refused.stdout).toBe(1);
      expect(refused.stdout).toContain('NOT_SUPPORTED');
      const video = await runPiped(
        ['call', 'phaya_seedance', 'prompt=a slow river', 'resolution=480p', 'duration=4s'],
        slowEnv,
      );
      const videoId = /Job (job_\S+) started/.exec(video.stdout)![1];
      const cancelled = await runPiped(['jobs', 'cancel', videoId, '--json'], slowEnv);
      expect(cancelled.code, cancelled.stdout).toBe(0);
      expect(JSON.parse(cancelled.stdout)).toMatchObject({ job_id: videoId, status: 'cancelled' });
    } finally {
      await slow.close();
    }
  });
});
