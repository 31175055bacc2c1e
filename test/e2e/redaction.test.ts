/**
 * Keys never leak, even when a provider echoes them: one redactor scrubs provider data where it enters,
 * so nothing stored, logged or returned carries a key (the SQLite file and its WAL included).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { startHostile } from '../helpers/hostile.js';
import { phayaEnv, sc } from '../helpers/money.js';
import { spawnStdio, text } from '../helpers/stdio.js';

const SECRET = 'sk-live-9f8e7d6c5b4a3210-SECRET';
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ key: SECRET, echoKey: true, pollsToComplete: 2 });
});
afterAll(() => sandbox.close());

function stateBytes(dir: string): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

describe('a provider that echoes the key', () => {
  it('never gets it into answers, errors, the ledger, the logs or the SQLite file', async () => {
    const env = phayaEnv(sandbox, { MEDIAGEN_LOG_LEVEL: 'debug' });
    const s = await spawnStdio(env);
    const seen: string[] = [];
    try {
      const keep = (r: unknown): void => void seen.push(JSON.stringify(r));
      keep(await s.call('phaya_user_credits'));
      const created = await s.call('phaya_text_to_image', { prompt: 'a lantern sandbox:fail' });
      keep(created);
      const failed = await s.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: 20 });
      expect(sc(failed).code).toBe('JOB_FAILED');
      keep(failed);
      keep(await s.call('phaya_text_to_image', { prompt: 'x sandbox:badparams' }));
      keep(await s.call('jobs_list', {}));
      keep(await s.call('jobs_get', { job_id: sc(created).job_id }));
      keep(await s.call('quote', { tool: 'phaya_sora2_text_to_video', arguments: { prompt: 'a boat' } }));
      keep(await s.call('spend_report'));
      const all = seen.join('\n');
      expect(all).toContain('[redacted]'); // the echo really happened
      expect(all).not.toContain(SECRET);
      expect(s.stderr()).not.toContain(SECRET);
    } finally {
      await s.close();
    }
    expect(stateBytes(env.MEDIAGEN_STATE_DIR)).not.toContain(SECRET);
  });

  it('a balance that carries the key stays out of quote and the approval form', async () => {
    const hostile = await startHostile((req, auth) =>
      req.url?.includes('/user/credits')
        ? { status: 200, body: JSON.stringify({ success: true, credits_balance: `${auth} X-API-KEY: ${SECRET}` }) }
        : { status: 404, body: '{"detail":"Not Found"}' },
    );
    const s = await spawnStdio({ ...phayaEnv(sandbox), PHAYA_BASE: hostile.base, PHAYA_API_KEY: SECRET }, [], {
      capabilities: { elicitation: {} },
    });
    try {
      let form = '';
      s.client.setRequestHandler(ElicitRequestSchema, (req) => {
        form = req.params.message;
        return { action: 'decline' };
      });
      const q = await s.call('quote', { tool: 'phaya_sora2_text_to_video', arguments: { prompt: 'a boat' } });
      expect(text(q)).toMatch(/balance: .*\[redacted\]/);
      expect(JSON.stringify(q)).not.toContain(SECRET);
      const r = await s.call('phaya_sora2_text_to_video', { prompt: 'a boat' });
      expect(sc(r).code).toBe('CONSENT_DECLINED');
      expect(form).toMatch(/Balance: .*\[redacted\]/);
      expect(form).not.toContain(SECRET);
      expect(hostile.requests.every((q) => q.auth === `Bearer ${SECRET}`)).toBe(true); // the key was used
    } finally {
      await s.close();
      await hostile.close();
    }
  });
});
