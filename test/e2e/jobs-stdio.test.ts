/** The job lifecycle end to end: the built server over stdio, a real SDK Client, the sandbox on loopback. */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
let server: StdioServer;
const outputDir = tempDir('mediagen-out-');
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 3 });
  server = await spawnStdio({
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: sandbox.key,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_OUTPUT_DIR: outputDir,
    // not sandbox mode: the sandbox on loopback is let through the download guard by name
    MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
    MEDIAGEN_POLL_MS: '100',
    MEDIAGEN_PRICES: `${ROOT}test/fixtures/prices/mediaio.json`,
  });
});
afterAll(async () => {
  await server?.close();
  await sandbox?.close();
});

async function create(prompt: string): Promise<string> {
  const r = await server.call('mediaio_t2i_imagen_4', { prompt, counts: '2' });
  expect(r.isError, text(r)).toBeFalsy();
  expect(text(r)).toMatch(/Call jobs_wait with \{"job_id": "job_/);
  return sc(r).job_id as string;
}

describe('jobs over stdio', () => {
  it('create -> jobs_wait -> result URLs as text, resource_link (with MIME type) and structuredContent', async () => {
    const id = await create('a paper boat');
    const r = await server.call('jobs_wait', { job_id: id });
    expect(r.isError).toBeFalsy();
    expect(sc(r)).toMatchObject({
      job_id: id,
      status: 'succeeded',
      provider: 'mediaio',
      provider_status: 'completed',
      price: 2,
    });
    const outputs = sc(r).outputs as { url: string; kind: string; mime_type: string }[];
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatchObject({ kind: 'image', mime_type: 'image/png' });
    const links = r.content.filter((c) => c.type === 'resource_link');
    expect(links).toHaveLength(2);
    expect(links[0]).toMatchObject({ type: 'resource_link', uri: outputs[0].url, mimeType: 'image/png' });
    expect(text(r)).toContain(outputs[0].url);
    const png = Buffer.from(await (await fetch(outputs[0].url)).arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('sends increasing progress notifications to a client that asked for them', async () => {
    const id = await create('a paper plane');
    const seen: number[] = [];
    const r = (await server.client.callTool({ name: 'jobs_wait', arguments: { job_id: id } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    })) as CallToolResult;
    expect(sc(r).status).toBe('succeeded');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
  });

  it('downloads into the output folder on request and reports absolute paths', async () => {
    const id = await create('a paper crane');
    const r = await server.call('jobs_wait', { job_id: id, download: true });
    const outputs = sc(r).outputs as { path: string }[];
    expect(outputs.map((o) => o.path)).toEqual([`${outputDir}/${id}-1.png`, `${outputDir}/${id}-2.png`]);
    expect(isAbsolute(outputs[0].path)).toBe(true);
    expect(readFileSync(outputs[0].path).subarray(1, 4).toString()).toBe('PNG');
    expect(text(r)).toContain(`saved to ${outputs[0].path}`);
  });

  it('a failing job -> JOB_FAILED with the provider reason', async () => {
    const id = await create('a paper boat sandbox:fail');
    const r = await server.call('jobs_wait', { job_id: id });
    expect(r.isError).toBe(true);
    expect(sc(r)).toMatchObject({ code: 'JOB_FAILED', job_id: id, status: 'failed' });
    expect(text(r)).toMatch(/^JOB_FAILED: Job job_\w+ \(mediaio_t2i_imagen_4\) failed: sandbox: generation failed/);
  });

  it('a provider "timeout" status is a failure too', async () => {
    const id = await create('a paper boat sandbox:timeout');
    const r = await server.call('jobs_wait', { job_id: id });
    expect(sc(r)).toMatchObject({ code: 'JOB_FAILED', provider_status: 'timeout' });
  });

  it('a job that outlives the wait budget is returned running, and finishes on the second jobs_wait', async () => {
    const id = await create('a paper lantern');
    const first = await server.call('jobs_wait', { job_id: id, wait_seconds: 0 });
    expect(first.isError).toBeFalsy();
    expect(sc(first)).toMatchObject({ status: 'pending', done: false });
    expect(text(first)).toMatch(/still pending[^]*Call jobs_wait/);
    const second = await server.call('jobs_wait', { job_id: id });
    expect(sc(second).status).toBe('succeeded');
  });

  it('jobs_get polls once', async () => {
    const id = await create('a paper fan');
    const before = sandbox.stats().total;
    const r = await server.call('jobs_get', { job_id: id });
    expect(sc(r)).toMatchObject({ job_id: id, status: 'pending', provider_status: 'waiting' });
    expect(sandbox.stats().total).toBe(before + 1);
  });

  it('jobs_cancel answers NOT_SUPPORTED where the catalogue has no cancel route (Media.io)', async () => {
    const id = await create('a paper hat');
    const before = sandbox.stats().total;
    const r = await server.call('jobs_cancel', { job_id: id });
    expect(sc(r)).toMatchObject({ code: 'NOT_SUPPORTED', job_id: id });
    expect(sandbox.stats().total).toBe(before);
  });

  it('jobs_list: newest first, filtered, paginated', async () => {
    const page1 = await server.call('jobs_list', { limit: 2 });
    const jobs1 = sc(page1).jobs as { job_id: string; created_at: string }[];
    expect(jobs1).toHaveLength(2);
    expect(jobs1[0].created_at >= jobs1[1].created_at).toBe(true);
    const page2 = await server.call('jobs_list', { limit: 2, cursor: sc(page1).next_cursor as string });
    const ids2 = (sc(page2).jobs as { job_id: string }[]).map((j) => j.job_id);
    expect(ids2.some((x) => jobs1.map((j) => j.job_id).includes(x))).toBe(false);
    const failed = sc(await server.call('jobs_list', { status: 'failed' })).jobs as { status: string }[];
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((j) => j.status === 'failed')).toBe(true);
    const none = await server.call('jobs_list', { provider: 'nobody' });
    expect(text(none)).toBe('No jobs match.');
    expect(sc(await server.call('jobs_list', { cursor: 'garbage' })).code).toBe('BAD_ARGUMENTS');
  });

  it('an unknown job id -> NOT_FOUND', async () => {
    expect(sc(await server.call('jobs_wait', { job_id: 'job_nope' })).code).toBe('NOT_FOUND');
  });
});
