/**
 * No paid output lost to a shape guess: Media.io declares the task result an object, the importer reads
 * result[].preview. Both shapes, through a real stdio server in sandbox mode: the array shape by its
 * declared field, the object shape (`sandbox:objectresult`) by scanning the result for URLs, with an
 * excerpt of the raw result, and the scanned URLs downloaded like declared ones.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/in-memory.js';
import { sc } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let server: StdioServer;
const out = join(tempDir('mediagen-shapes-'), 'out');

beforeAll(async () => {
  server = await spawnStdio({ MEDIAGEN_STATE_DIR: tempDir(), MEDIAGEN_OUTPUT_DIR: out, MEDIAGEN_POLL_MS: '50' }, [
    '--sandbox',
  ]);
});
afterAll(() => server?.close());

async function finished(prompt: string) {
  const args = { prompt };
  const first = await server.call('mediaio_t2i_imagen_4', args);
  const token = (first.structuredContent as { confirm_token?: string }).confirm_token;
  expect(token, text(first)).toBeTruthy();
  const created = await server.call('mediaio_t2i_imagen_4', { ...args, confirm_token: token });
  expect(created.isError, text(created)).toBeFalsy();
  return server.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: 20, download: true });
}

describe('Media.io result shapes', () => {
  it('array shape (result[].preview): the declared field gives the output, no excerpt', async () => {
    const r = await finished('a lighthouse');
    expect(r.isError, text(r)).toBeFalsy();
    const s = sc(r) as { status: string; outputs: { kind: string; found_by?: string }[]; result_excerpt?: string };
    expect(s.status).toBe('succeeded');
    expect(s.outputs).toHaveLength(1);
    expect(s.outputs[0]).toMatchObject({ kind: 'image' });
    expect(s.outputs[0].found_by).toBeUndefined();
    expect(s.result_excerpt).toBeUndefined();
  });

  it('object shape: every URL in the result is found (kind from its extension), excerpted and downloaded', async () => {
    const r = await finished('a lighthouse sandbox:objectresult');
    expect(r.isError, text(r)).toBeFalsy();
    const s = sc(r) as {
      status: string;
      outputs: { url: string; kind: string; found_by?: string; path: string | null }[];
      result_excerpt?: string;
      download?: { complete: boolean };
    };
    expect(s.status).toBe('succeeded');
    expect(s.outputs).toEqual([
      expect.objectContaining({
        kind: 'image',
        found_by: 'scan',
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1/),
      }),
    ]);
    expect(s.result_excerpt).toMatch(/"outputs":\{"files":\[\{"path":/);
    expect(text(r)).not.toMatch(/no output URL/);
    expect(text(r)).toMatch(/found by scanning/);
    expect(text(r)).toMatch(/Provider result \(excerpt\)/);
    expect(s.download).toMatchObject({ complete: true });
    expect(s.outputs[0].path && existsSync(s.outputs[0].path)).toBe(true);
    expect(readdirSync(out).length).toBeGreaterThanOrEqual(2);
    // Only real URLs are links; the excerpt is text.
    const links = r.content.filter((c) => c.type === 'resource_link');
    expect(links).toHaveLength(1);
  });
});
