/**
 * Over stdio with a real SDK client (issue 21, item 4):
 * - with an empty environment (no key, no --sandbox) the start-up log, `models` and `quote` say that no
 *   provider is configured and name --sandbox and the key variables;
 * - a client's cancel of a call in progress (jobs_wait, notifications/cancelled) is logged at info, not error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { phayaEnv, sc, T2I, until } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/in-memory.js';
import { runPiped } from '../helpers/terminal.js';

const servers: StdioServer[] = [];
let sandbox: Sandbox | undefined;
afterAll(async () => {
  for (const s of servers) await s.close();
  await sandbox?.close();
});

const WAY_OUT = /--sandbox.*MEDIAIO_API_KEY.*PHAYA_API_KEY with PHAYA_BASE.*PH0NY_API_KEY/s;

describe('no provider configured', () => {
  it('the start-up log, models and quote say so and point at --sandbox and the key variables', async () => {
    const s = await spawnStdio({});
    servers.push(s);
    await until(() => /No provider is configured/.test(s.stderr()));
    const line = s
      .stderr()
      .split('\n')
      .find((l) => l.includes('No provider is configured'))!;
    expect(line).toMatch(/^\[mediagen-mcp\] warn: /);
    expect(line).toMatch(WAY_OUT);

    const models = await s.call('models', {});
    expect(models.isError, text(models)).toBeFalsy();
    expect(text(models)).not.toContain('No model family matches');
    expect(text(models)).toMatch(/No provider is configured/);
    expect(text(models)).toMatch(WAY_OUT);
    expect(sc(models).families).toEqual([]);

    const quote = await s.call('quote', { tool: T2I, arguments: { prompt: 'a lantern' } });
    expect(quote.isError).toBe(true);
    expect(sc(quote).code).toBe('NOT_FOUND');
    expect(text(quote)).toMatch(/No provider is configured/);
    expect(text(quote)).toMatch(WAY_OUT);
  });

  it('with a key, models answers families and nothing is said about providers', async () => {
    sandbox ??= await startSandbox();
    const s = await spawnStdio(phayaEnv(sandbox));
    servers.push(s);
    const models = await s.call('models', {});
    expect((sc(models).families as unknown[]).length).toBeGreaterThan(0);
    expect(s.stderr()).not.toMatch(/No provider is configured/);
  });
});

describe('a client cancel', () => {
  it('is logged at info, not error', async () => {
    sandbox ??= await startSandbox();
    // A job that stays running: its wait is what the client cancels.
    const slow = await startSandbox({ pollsToComplete: 10_000 });
    try {
      const s = await spawnStdio(phayaEnv(slow));
      servers.push(s);
      const r = await s.call(T2I, { prompt: 'a lantern' });
      const jobId = sc(r).job_id as string;
      const stop = new AbortController();
      const waiting = s.client
        .callTool({ name: 'jobs_wait', arguments: { job_id: jobId, wait_seconds: 30 } }, undefined, {
          signal: stop.signal,
        })
        .catch((e: unknown) => e);
      await until(() => slow.stats().requests.filter((q) => q.method === 'GET').length >= 2);
      stop.abort();
      await waiting;
      await until(() => /tool call cancelled/.test(s.stderr()));
      expect(s.stderr()).toMatch(/info: tool call cancelled: the request was aborted \{"tool":"jobs_wait"\}/);
      expect(s.stderr()).not.toMatch(/error: tool call failed/);
    } finally {
      await slow.close();
    }
  });
});

describe('the command line with no provider configured', () => {
  it('quote, call and describe of a generation tool say unknown tool and name the way out; exit 2', async () => {
    for (const args of [
      ['quote', T2I, 'prompt=a cup'],
      ['call', T2I, 'prompt=a cup'],
      ['describe', T2I],
    ]) {
      const r = await runPiped(args, { MEDIAGEN_STATE_DIR: tempDir() });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`unknown tool "${T2I}"`);
      expect(r.stderr).toMatch(/No provider is configured/);
      expect(r.stderr).toMatch(WAY_OUT);
    }
  });
});
