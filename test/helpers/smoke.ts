/**
 * The smoke run shared by the packaged-artifact tests (MCPB bundle, npm tarball): over a real stdio Client,
 * tools/list, one free call, and one guarded job taken to its result through the consent token, against the
 * built-in sandbox gateway (nothing leaves the machine, nothing is spent).
 */
import { expect } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { text, type StdioServer } from './stdio.js';

const sc = (r: CallToolResult) => (r.structuredContent ?? {}) as Record<string, unknown>;

/** tools/list: every provider's tools and the server tools are there. */
export async function expectToolList(server: StdioServer): Promise<string[]> {
  const names = (await server.client.listTools()).tools.map((t) => t.name);
  for (const name of ['quote', 'models', 'jobs_wait', 'spend_report', 'phaya_veo31_video', 'mediaio_t2i_imagen_4']) {
    expect(names).toContain(name);
  }
  return names;
}

/** One free call that reads the store (spend_report) and one that prices a call (quote). */
export async function expectFreeCalls(server: StdioServer): Promise<void> {
  const spend = await server.call('spend_report', {});
  expect(spend.isError, text(spend)).toBeFalsy();
  const quote = await server.call('quote', { tool: 'phaya_veo31_video', arguments: { prompt: 'a lantern' } });
  expect(quote.isError, text(quote)).toBeFalsy();
  expect(text(quote)).toMatch(/15 credits/);
}

/** A paid Veo call: refused with a price and a token, confirmed, waited for, one video out. */
export async function expectGuardedJob(server: StdioServer): Promise<void> {
  const args = { prompt: 'a paper lantern drifting over a lake' };
  const first = await server.call('phaya_veo31_video', args);
  expect(first.isError).toBe(true);
  expect(sc(first).code).toBe('CONFIRMATION_REQUIRED');
  const created = await server.call('phaya_veo31_video', { ...args, confirm_token: sc(first).confirm_token });
  expect(created.isError, text(created)).toBeFalsy();
  const done = await server.call('jobs_wait', { job_id: sc(created).job_id as string });
  expect(done.isError, text(done)).toBeFalsy();
  expect(sc(done).status).toBe('succeeded');
  expect((sc(done).outputs as { kind: string }[]).map((o) => o.kind)).toContain('video');
  const spend = await server.call('spend_report', {});
  expect(text(spend)).toMatch(/phaya/);
}
