/**
 * Reservation states end to end (DESIGN §5.8): a failed job gives its credits back under the caps; a
 * cancelled job keeps them (no refund is documented) and says so; cancelling is the owner's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH, totals } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
const servers: StdioServer[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  sandbox.reset();
});

async function serve(env: Record<string, string>, args: string[] = []): Promise<StdioServer> {
  const s = await spawnStdio(env, args);
  servers.push(s);
  return s;
}

describe('a failed job', () => {
  it('is refunded: its credits leave the session cap, and the next call runs', async () => {
    const s = await serve(phayaEnv(sandbox), ['--cap-session', 'phaya=1']);
    const created = await s.call(T2I, { prompt: 'a lantern sandbox:fail' });
    expect(created.isError, text(created)).toBeFalsy();
    const waited = await s.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: 20 });
    expect(sc(waited).code).toBe('JOB_FAILED');
    const report = await s.call('spend_report');
    expect(totals(report, 'phaya')).toMatchObject({ committed: 0, refunded: 1, reserved: 0, uncertain: 0 });
    expect((sc(report).entries as { state: string }[])[0].state).toBe('refunded');
    const next = await s.call(T2I, { prompt: 'a lantern' });
    expect(next.isError, text(next)).toBeFalsy();
    expect(hits(sandbox, T2I_PATH)).toBe(2);
  });
});

describe('a cancelled job', () => {
  const SORA = 'phaya_sora2_text_to_video';
  async function createSora(s: StdioServer): Promise<{ id: string; cancelPath: string }> {
    const ask = await s.call(SORA, { prompt: 'a paper boat' });
    expect(sc(ask).code).toBe('CONFIRMATION_REQUIRED');
    const created = await s.call(SORA, { prompt: 'a paper boat', confirm_token: sc(ask).confirm_token });
    expect(created.isError, text(created)).toBeFalsy();
    const cancelPath = `/phaya/api/v1/sora2-text-to-video/cancel/${sc(created).provider_job_id as string}`;
    return { id: sc(created).job_id as string, cancelPath };
  }

  it('keeps its credits committed, and says so', async () => {
    const s = await serve(phayaEnv(sandbox));
    const { id } = await createSora(s);
    const r = await s.call('jobs_cancel', { job_id: id });
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toMatch(/8 credits stay committed: phaya documents no refund for cancelled jobs/);
    expect(totals(await s.call('spend_report'), 'phaya')).toMatchObject({ committed: 8, refunded: 0 });
  });

  it('can be cancelled only by its owner while the owner runs; reads are shared', async () => {
    const env = phayaEnv(sandbox);
    const a = await serve(env);
    const b = await serve(env); // a second server on the same state folder
    const { id, cancelPath: path } = await createSora(a);
    const seen = await b.call('jobs_list', {});
    expect(text(seen)).toContain(id);
    const refused = await b.call('jobs_cancel', { job_id: id });
    expect(sc(refused).code, text(refused)).toBe('NOT_OWNER');
    expect(hits(sandbox, path)).toBe(0);
    // Once the owner has gone, its jobs are orphaned and another local server may cancel them.
    await a.close();
    servers.splice(servers.indexOf(a), 1);
    const ok = await b.call('jobs_cancel', { job_id: id });
    expect(ok.isError, text(ok)).toBeFalsy();
    expect(hits(sandbox, path)).toBe(1);
  });
});
