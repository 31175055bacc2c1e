/**
 * The sandbox's result-URL faults, through a server in sandbox mode: a job whose result is on another
 * loopback address or the metadata address is not downloaded, a dripping one does not hold the wait, a
 * huge one is refused by size. The URLs are returned every time.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/in-memory.js';
import { sc } from '../helpers/money.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let server: StdioServer;
const out = join(tempDir('mediagen-sbx-'), 'out');

beforeAll(async () => {
  server = await spawnStdio(
    { MEDIAGEN_STATE_DIR: tempDir(), MEDIAGEN_OUTPUT_DIR: out, MEDIAGEN_POLL_MS: '50', MEDIAGEN_DOWNLOAD_MAX_MB: '5' },
    ['--sandbox'],
  );
});
afterAll(() => server?.close());

async function finished(marker: string, waitSeconds = 20) {
  const created = await server.call('phaya_text_to_image', { prompt: `a lantern ${marker}` });
  expect(created.isError, text(created)).toBeFalsy();
  return server.call('jobs_wait', { job_id: sc(created).job_id, wait_seconds: waitSeconds, download: true });
}

describe('result URLs the download guard must refuse or bound (sandbox faults)', () => {
  it("sandbox mode downloads the sandbox's own media", async () => {
    const r = await finished('');
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { complete: true } });
  });

  it.each([
    ['another loopback address', 'sandbox:loopbackurl', /127\.0\.0\.2/],
    ['the cloud metadata address', 'sandbox:metadataurl', /169\.254\.169\.254/],
  ])('%s: refused, URL still returned', async (_what, marker, host) => {
    const r = await finished(marker);
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { saved: [], problems: [{ output: 1 }] } });
    expect(text(r)).toMatch(host);
    expect(text(r)).toMatch(/refused|not allowed|internal/i);
  });

  it('a huge result is refused by its declared size; nothing is written', async () => {
    const before = existsSync(out) ? readdirSync(out).length : 0;
    const r = await finished('sandbox:hugeurl');
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { saved: [], problems: [{ output: 1 }] } });
    expect(text(r)).toMatch(/limit/);
    expect(readdirSync(out).length).toBe(before);
  });

  it('a dripping result does not hold jobs_wait past its budget', async () => {
    const started = Date.now();
    const r = await finished('sandbox:dripurl', 3);
    expect(Date.now() - started).toBeLessThan(20_000); // the drip would take minutes
    expect(sc(r)).toMatchObject({ download: { complete: false } });
  });
});
