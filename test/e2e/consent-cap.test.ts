/**
 * A consent token is not used up by a call the cap then refuses (issue 17, item 15): the call is
 * BUDGET_EXCEEDED with zero provider requests, the token is given back, and once the cap is raised (a
 * restart on the same state dir) that same token runs the call exactly once, even when it is presented
 * twice at the same time. Built server over stdio, real SQLite, the sandbox's request counter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH } from '../helpers/money.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});
afterAll(() => sandbox.close());

async function serve(dir: string, capDay: string): Promise<StdioServer> {
  const s = await spawnStdio(
    phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir, MEDIAGEN_CONFIRM: 'all', MEDIAGEN_CAP_DAY: `phaya=${capDay}` }),
  );
  servers.push(s);
  return s;
}

describe('a consent token and a cap that refuses', () => {
  it('BUDGET_EXCEEDED keeps the token: after the cap is raised it runs once, and only once', async () => {
    const dir = tempDir();
    const args = { prompt: 'a lantern under a tight cap' };
    const small = await serve(dir, '0.5');
    const asked = await small.call(T2I, args);
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    const token = sc(asked).confirm_token as string;
    const refused = await small.call(T2I, { ...args, confirm_token: token });
    expect(sc(refused).code, text(refused)).toBe('BUDGET_EXCEEDED');
    expect(hits(sandbox, T2I_PATH)).toBe(0);
    await small.close();
    servers.splice(0);

    const raised = await serve(dir, '5');
    const both = await Promise.all([
      raised.call(T2I, { ...args, confirm_token: token }),
      raised.call(T2I, { ...args, confirm_token: token }),
    ]);
    const ran = both.filter((r) => !r.isError);
    expect(ran.length, both.map(text).join('\n')).toBe(1);
    expect(sc(ran[0]).job_id).toMatch(/^job_/);
    const other = both.find((r) => r.isError)!;
    expect(sc(other).code, text(other)).toBe('CONFIRMATION_REQUIRED');
    expect(sc(other).refused).toMatch(/already used/);
    const replay = await raised.call(T2I, { ...args, confirm_token: token });
    expect(sc(replay).code, text(replay)).toBe('CONFIRMATION_REQUIRED');
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });
});
