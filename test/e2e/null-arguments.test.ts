/**
 * Strict clients send `null` for every optional field they do not give (OpenAI strict mode lists them
 * all as required and nullable). The money path reads such a null as "not given": the default applies,
 * no null reaches the provider's body, and `{a, b: null}` is the same call as `{a}` for the confirm
 * token and the idempotency key. Built server over stdio, the sandbox's request log and counter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { hits, phayaEnv, sc, T2I, T2I_PATH } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
let server: StdioServer;

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await spawnStdio(phayaEnv(sandbox, { MEDIAGEN_CONFIRM: 'all' }));
});
afterAll(async () => {
  await server?.close();
  await sandbox?.close();
});

const nulls = (v: unknown): string[] =>
  v === null
    ? ['']
    : v && typeof v === 'object'
      ? Object.entries(v).flatMap(([k, x]) => nulls(x).map((p) => (p ? `${k}.${p}` : k)))
      : [];

describe('null for an optional field is a field not given', () => {
  it('a token minted without the nulls redeems with them: one provider request, no null in its body', async () => {
    const prompt = 'a lighthouse drawn by a strict client';
    const asked = await server.call(T2I, { prompt });
    expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
    const token = sc(asked).confirm_token as string;

    const quoted = await server.call('quote', { tool: T2I, arguments: { prompt, aspect_ratio: null } });
    expect(quoted.isError, text(quoted)).toBeFalsy();
    expect(sc(quoted).consent).toMatchObject({ needed: true });

    const key = 'strict-client-0001';
    const ran = await server.call(T2I, { prompt, aspect_ratio: null, confirm_token: token, idempotency_key: key });
    expect(ran.isError, text(ran)).toBeFalsy();
    const job = sc(ran).job_id as string;
    expect(job).toMatch(/^job_/);
    const sent = sandbox.stats().requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === T2I_PATH);
    expect(sent).toHaveLength(1);
    expect(nulls(sent[0].body)).toEqual([]);
    // The default applied, as if the field had been left out.
    expect(sent[0].body).toMatchObject({ prompt, aspect_ratio: '1:1' });

    // The same key with the field left out (and the token given as null) is the same call: the same job.
    const again = await server.call(T2I, { prompt, idempotency_key: key, confirm_token: null });
    expect(sc(again).job_id, text(again)).toBe(job);
    expect(hits(sandbox, T2I_PATH)).toBe(1);
  });

  it('server tools read null the same way (defaults apply)', async () => {
    const r = await server.call('jobs_list', { status: null, provider: null, since: null, limit: null, cursor: null });
    expect(r.isError, text(r)).toBeFalsy();
    const waited = await server.call('jobs_get', { job_id: 'job_none', include: null } as Record<string, unknown>);
    // An unknown key is still refused, null or not, and names the accepted ones.
    expect(text(waited)).toMatch(/unknown argument\(s\) include .*; accepted: /);
  });

  it('a null for a required field is still refused', async () => {
    const r = await server.call(T2I, { prompt: null });
    expect(sc(r).code, text(r)).toBe('BAD_ARGUMENTS');
    expect(text(r)).toMatch(/prompt: expected string, got null/);
  });
});
