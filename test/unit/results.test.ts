import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediagenError } from '../../src/errors.js';
import { DownloadIncomplete, downloadOutput, type DownloadOptions } from '../../src/jobs/download.js';
import { confinedPath, extractOutputs, safeFileName } from '../../src/jobs/results.js';
import { guardedAgent, type DownloadPolicy } from '../../src/jobs/ssrf.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';

let sandbox: Sandbox;
/** The sandbox is on loopback: these tests let 127.0.0.1 through the download guard by name. */
const policy: DownloadPolicy = { allowHosts: new Set(['127.0.0.1']), allowOrigins: new Set() };
const agent = guardedAgent(policy);
const opts = (dir: string, maxBytes: number, timeoutMs: number): DownloadOptions => ({
  dir,
  maxBytes,
  timeoutMs,
  dispatcher: agent,
  policy,
});
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

describe('result extraction', () => {
  it('walks arrays, keeps order, de-duplicates, and types each URL', () => {
    const data = {
      result: [{ preview: 'https://x/a.png' }, { preview: 'https://x/b.mp4?sig=1' }, { preview: 'https://x/a.png' }],
      video_url: 'https://x/c',
    };
    const outs = extractOutputs(data, {
      results: [
        { field: 'result[].preview', kind: 'image' },
        { field: 'video_url', kind: 'video' },
      ],
    });
    expect(outs).toEqual([
      { url: 'https://x/a.png', kind: 'image', mimeType: 'image/png' },
      { url: 'https://x/b.mp4?sig=1', kind: 'image', mimeType: 'video/mp4' },
      { url: 'https://x/c', kind: 'video', mimeType: 'video/mp4' },
    ]);
  });
});

describe('download confinement', () => {
  it('names files <job id>-<n>.<ext> with nothing else from the provider', () => {
    expect(safeFileName('job_abc', 1, { url: 'https://x/../../etc/passwd', kind: 'image' })).toBe('job_abc-1.png');
    expect(safeFileName('job_abc', 2, { url: 'https://x/a/..%2f..%2fx.mp4', kind: 'video' })).toBe('job_abc-2.mp4');
    expect(safeFileName('job_abc', 3, { url: 'https://x/evil.sh', kind: 'audio' })).toBe('job_abc-3.mp3');
    expect(safeFileName('job_abc', 4, { url: 'not a url', kind: 'file' })).toBe('job_abc-4.bin');
    expect(() => safeFileName('../../x', 1, { url: 'https://x/a.png', kind: 'image' })).toThrow(MediagenError);
  });

  it.each([
    ['../../x'],
    ['/etc/passwd'],
    ['a/b.png'],
    ['a\\b.png'],
    ['x\0.png'],
    ['..'],
    ['.'],
    [''],
    ['con:1.png'],
    ['a?.png'],
    ['C:\\x.png'],
  ])('refuses the hostile name %j', (name) => {
    const dir = tempDir();
    expect(() => confinedPath(dir, name)).toThrow(/Refused file name/);
  });

  it('refuses a relative output folder', () => {
    expect(() => confinedPath('relative/dir', 'a.png')).toThrow(/absolute path/);
  });

  it('downloads a real file from the sandbox into the folder and reports its absolute path', async () => {
    const dir = join(tempDir(), 'out');
    const path = await downloadOutput(
      'job_dl1',
      1,
      { url: `${sandbox.url}/_media/sample.png`, kind: 'image' },
      opts(dir, 1e6, 5000),
    );
    expect(path).toBe(join(dir, 'job_dl1-1.png'));
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses an oversize file and writes nothing (no partial file either)', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    await expect(
      downloadOutput('job_big', 1, { url: `${sandbox.url}/_media/sample.mp4`, kind: 'video' }, opts(dir, 100, 5000)),
    ).rejects.toThrow(/over the 100-byte download limit/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops a sandbox drip (1 byte/s) at the deadline and leaves no file, not even a temp file', async () => {
    const dir = tempDir();
    const started = Date.now();
    await expect(
      downloadOutput(
        'job_drip',
        1,
        { url: `${sandbox.url}/_media/drip/sample.png`, kind: 'image' },
        opts(dir, 1e6, 1500),
      ),
    ).rejects.toBeInstanceOf(DownloadIncomplete);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses the sandbox's 5 GiB file by its declared size, writing nothing", async () => {
    const dir = tempDir();
    await expect(
      downloadOutput(
        'job_huge',
        1,
        { url: `${sandbox.url}/_media/huge/sample.mp4`, kind: 'video' },
        opts(dir, 1e6, 5000),
      ),
    ).rejects.toThrow(/5368709120 bytes, over the 1000000-byte download limit/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses non-http URLs', async () => {
    const dir = tempDir();
    await expect(
      downloadOutput('job_f', 1, { url: 'file:///etc/passwd', kind: 'file' }, opts(dir, 1e6, 1000)),
    ).rejects.toThrow(/not an http/);
    expect(existsSync(join(dir, 'job_f-1.bin'))).toBe(false);
  });
});
