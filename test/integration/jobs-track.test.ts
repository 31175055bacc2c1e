/**
 * jobs_track: a job created elsewhere is adopted by its provider id without charging (no create request
 * from the server), then waited on, downloaded and listed; an uncertain reservation (OUTCOME_UNKNOWN) is
 * settled by adopting its job: committed, or refunded when the job failed. Principal-scoped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { connectInMemory } from '../helpers/in-memory.js';
import { sc, totals } from '../helpers/money.js';
import { createJob } from '../helpers/phaya-wire.js';

const T2I = 'phaya_text_to_image';
let sandbox: Sandbox;
let client: Client;
let other: Client;
let close: () => Promise<void>;

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 2 });
  const c = await connectInMemory(
    ['--toolsets', 'phaya'],
    { MEDIAGEN_POLL_MS: '50' },
    { baseUrl: (p, d) => sandbox.baseUrl(p, d), key: sandbox.key },
  );
  client = c.client;
  // A second principal on the same app (as over HTTP with another bearer token).
  const { server } = c.app.createMcpServer('other-caller', 'someone-else');
  const [a, b] = InMemoryTransport.createLinkedPair();
  other = new Client({ name: 'other', version: '1.0.0' });
  await Promise.all([server.connect(a), other.connect(b)]);
  close = async () => {
    await other.close();
    await server.close();
    await c.close();
  };
});
afterAll(async () => {
  await close();
  await sandbox.close();
});

const call = async (c: Client, name: string, args: Record<string, unknown>) =>
  (await c.callTool({ name, arguments: args })) as CallToolResult;
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;
const creates = () => sandbox.stats().requests.filter((q) => q.method === 'POST').length;
const spent = async () => totals(await call(client, 'spend_report', {}), 'phaya');

describe('jobs_track', () => {
  it('adopts a job created elsewhere: no charge, no create request; waited on and listed', async () => {
    sandbox.reset();
    const providerId = await createJob(sandbox, '/text-to-image/generate', { prompt: 'made elsewhere' });
    const before = await spent();
    const r = await call(client, 'jobs_track', { tool: T2I, provider_job_id: providerId });
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toMatch(/nothing was charged/);
    expect(sc(r)).toMatchObject({ adopted: true, provider_job_id: providerId, price: null, tool: T2I });
    const w = await call(client, 'jobs_wait', { job_id: sc(r).job_id, wait_seconds: 10 });
    expect(sc(w)).toMatchObject({ status: 'succeeded' });
    expect((sc(w).outputs as unknown[]).length).toBe(1);
    expect(creates()).toBe(1); // the test's own create, "elsewhere"; none from the server
    expect(await spent()).toEqual(before);
    const list = await call(client, 'jobs_list', {});
    expect(JSON.stringify(sc(list))).toContain(String(sc(r).job_id));
    // Another principal neither sees nor waits on it.
    const theirs = await call(other, 'jobs_get', { job_id: sc(r).job_id });
    expect(sc(theirs)).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses an id the provider does not know, recording nothing', async () => {
    const r = await call(client, 'jobs_track', { tool: T2I, provider_job_id: 'no-such-job-123' });
    expect(r.isError).toBe(true);
    expect(sc(r).code).toMatch(/PROVIDER_|NOT_FOUND/);
    const list = await call(client, 'jobs_list', {});
    expect(JSON.stringify(sc(list))).not.toContain('no-such-job-123');
  });

  it('settles an uncertain reservation: uncertain -> committed', async () => {
    const lost = await call(client, T2I, { prompt: 'a kite sandbox:lost' });
    expect(sc(lost)).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(text(lost)).toMatch(/jobs_track|uncertain/);
    const reservation = String(sc(lost).reservation);
    const mid = await spent();
    expect(mid?.uncertain).toBeGreaterThanOrEqual(1);
    // The job the provider did create, found on its dashboard/history.
    const providerId = await createJob(sandbox, '/text-to-image/generate', { prompt: 'a kite' });
    // Another principal cannot settle it.
    const theirs = await call(other, 'jobs_track', {
      tool: T2I,
      provider_job_id: providerId,
      reservation_id: reservation,
    });
    expect(sc(theirs)).toMatchObject({ code: 'NOT_FOUND' });
    const r = await call(client, 'jobs_track', { tool: T2I, provider_job_id: providerId, reservation_id: reservation });
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ job_id: reservation, reservation: { state: 'committed', credits: 1 } });
    const after = await spent();
    expect(after?.uncertain).toBe((mid?.uncertain ?? 0) - 1);
    expect(after?.committed).toBe((mid?.committed ?? 0) + 1);
    // Once settled, it cannot be settled again.
    const again = await call(client, 'jobs_track', {
      tool: T2I,
      provider_job_id: providerId,
      reservation_id: reservation,
    });
    expect(sc(again)).toMatchObject({ code: 'BAD_ARGUMENTS', state: 'committed' });
  });

  it('settles an uncertain reservation whose job failed: -> refunded', async () => {
    const lost = await call(client, T2I, { prompt: 'a kite sandbox:lost' });
    const reservation = String(sc(lost).reservation);
    const mid = await spent();
    const providerId = await createJob(sandbox, '/text-to-image/generate', { prompt: 'a kite sandbox:fail' });
    const r = await call(client, 'jobs_track', { tool: T2I, provider_job_id: providerId, reservation_id: reservation });
    expect(r.isError, text(r)).toBeFalsy();
    const w = await call(client, 'jobs_wait', { job_id: reservation, wait_seconds: 10 });
    expect(sc(w)).toMatchObject({ code: 'JOB_FAILED' });
    const after = await spent();
    expect(after?.uncertain).toBe((mid?.uncertain ?? 0) - 1);
    expect(after?.refunded).toBe((mid?.refunded ?? 0) + 1);
    expect(after?.committed).toBe(mid?.committed);
  });

  it('refuses a reservation of another tool, and a tool that creates no job', async () => {
    const lost = await call(client, T2I, { prompt: 'a kite sandbox:lost' });
    const r = await call(client, 'jobs_track', {
      tool: 'phaya_seedream',
      provider_job_id: 'x-1',
      reservation_id: String(sc(lost).reservation),
    });
    expect(sc(r)).toMatchObject({ code: 'BAD_ARGUMENTS' });
    const chat = await call(client, 'jobs_track', { tool: 'phaya_gpt_chat', provider_job_id: 'x-1' });
    expect(text(chat)).toMatch(/creates no job/);
  });
});
