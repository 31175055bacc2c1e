/**
 * Downloads of job outputs are untrusted input (issue 9, items 5, 7, 8): a real SDK Client (in-memory
 * transport) against a real server whose Acme provider is a small hostile server on loopback, real files in
 * a temp folder. Only loopback is ever contacted: refused targets are refused before connecting.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ACME_KEY, PNG, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { connectInMemory, tempDir } from '../helpers/in-memory.js';
import { ACME_FILE } from '../helpers/paths.js';

let hostile: HostileProvider;
/** A loopback listener that only counts connections: the refused targets point here. */
let target: { port: number; connections: number; server: Server };
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  hostile = await startHostileProvider();
  const server = createServer((socket) => {
    target.connections++;
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nTOP SECRET');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = { port: (server.address() as AddressInfo).port, connections: 0, server };
});
afterAll(async () => {
  await hostile.close();
  await new Promise((resolve) => target.server.close(resolve));
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** A server with the Acme catalogue pointed at the hostile provider; `env` adds MEDIAGEN_* settings. */
async function connect(env: Record<string, string> = {}, argv: string[] = []) {
  const out = join(tempDir('mediagen-dl-'), 'out');
  const c = await connectInMemory(
    ['--catalogue', ACME_FILE, ...argv],
    { MEDIAGEN_OUTPUT_DIR: out, MEDIAGEN_POLL_MS: '50', ...env },
    { baseUrl: (p) => (p === 'acme' ? hostile.url : 'http://127.0.0.1:9'), key: ACME_KEY },
  );
  closers.push(c.close);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await c.client.callTool({ name, arguments: args })) as CallToolResult;
  /** Create a job whose results are `urls`; returns its job id. */
  const job = async (urls: string[]): Promise<string> => {
    hostile.setOutputs(urls);
    const r = await call('acme_image_create', { prompt: 'a paper boat' });
    expect(r.isError, text(r)).toBeFalsy();
    return sc(r).job_id as string;
  };
  return { ...c, out, call, job };
}

const ALLOW_LOOPBACK = { MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1' };

describe('no symlink escape (item 5)', () => {
  it('a symlink planted at the old temp name is not followed; the saved file is a real file in the folder', async () => {
    const s = await connect(ALLOW_LOOPBACK);
    const id = await s.job([`${hostile.url}/media/a.png`]);
    const outside = join(tempDir('mediagen-outside-'), 'victim.txt');
    writeFileSync(outside, 'original');
    mkdirSync(s.out, { recursive: true });
    symlinkSync(outside, join(s.out, `.${id}-1.part`));
    const r = await s.call('jobs_wait', { job_id: id, download: true });
    expect(r.isError, text(r)).toBeFalsy();
    expect(readFileSync(outside, 'utf8')).toBe('original');
    const saved = join(s.out, `${id}-1.png`);
    expect(lstatSync(saved).isFile()).toBe(true);
    expect(readFileSync(saved).equals(PNG)).toBe(true);
    expect(readdirSync(s.out).filter((f) => f.endsWith('.part') && f !== `.${id}-1.part`)).toEqual([]);
  });

  it('a symlinked output folder is refused: nothing is written through it, the URLs are returned', async () => {
    const real = tempDir('mediagen-linked-');
    const link = join(tempDir('mediagen-dl-'), 'out');
    symlinkSync(real, link);
    const s = await connect({ ...ALLOW_LOOPBACK, MEDIAGEN_OUTPUT_DIR: link });
    const id = await s.job([`${hostile.url}/media/b.png`]);
    const r = await s.call('jobs_wait', { job_id: id, download: true });
    expect(r.isError, text(r)).toBeFalsy();
    expect(readdirSync(real)).toEqual([]);
    expect(text(r)).toMatch(/Nothing downloaded: refused: the output folder .* is a symbolic link/);
    expect(text(r)).toContain(`${hostile.url}/media/b.png`);
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { complete: true, saved: [] } });
  });
});

describe('SSRF guard (item 7)', () => {
  it.each([
    [
      'a loopback IP literal',
      (port: number) => `http://127.0.0.1:${port}/secret`,
      /127\.0\.0\.1 is not a public address \(loopback\)/,
    ],
    [
      'a name resolving to loopback',
      (port: number) => `http://localhost:${port}/secret`,
      /localhost resolves to (127\.0\.0\.1|::1), not a public address \(loopback\)/,
    ],
    [
      'an IPv4-mapped IPv6 loopback',
      (port: number) => `http://[::ffff:127.0.0.1]:${port}/secret`,
      /not a public address \(loopback \(IPv4 inside IPv6\)\)/,
    ],
    [
      'the cloud metadata address',
      () => 'http://169.254.169.254/latest/meta-data/iam',
      /169\.254\.169\.254 is not a public address \(cloud metadata/,
    ],
    ['a private address', () => 'http://10.1.2.3/x.png', /10\.1\.2\.3 is not a public address \(private\)/],
    [
      'an IPv6 unique-local address',
      () => 'http://[fd00::1]/x.png',
      /fd00::1 is not a public address \(unique-local\)/,
    ],
  ])('refuses %s before connecting, says why, and still returns the URL', async (_label, urlOf, why) => {
    const s = await connect();
    const url = urlOf(target.port);
    const id = await s.job([url]);
    const r = await s.call('jobs_wait', { job_id: id, download: true });
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toMatch(why);
    expect(text(r)).toContain(url);
    expect(target.connections).toBe(0);
    expect(existsSync(s.out) ? readdirSync(s.out) : []).toEqual([]);
    expect(sc(r)).toMatchObject({ status: 'succeeded', download: { saved: [], problems: [{ output: 1 }] } });
  });

  it('follows redirects itself, each hop through the guard', async () => {
    const s = await connect(ALLOW_LOOPBACK);
    const toName = `${hostile.url}/redirect?to=${encodeURIComponent(`http://localhost:${hostile.port}/secret`)}`;
    const toMeta = `${hostile.url}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/')}`;
    const ok = `${hostile.url}/redirect?to=${encodeURIComponent('/media/c.png')}`;
    const id = await s.job([toName, toMeta, ok]);
    const r = await s.call('jobs_wait', { job_id: id, download: true });
    expect(text(r)).toMatch(/Output 1 not downloaded: refused: localhost resolves to/);
    expect(text(r)).toMatch(/Output 2 not downloaded: refused: 169\.254\.169\.254 is not a public address/);
    expect(text(r)).toMatch(/Downloaded output 3\./);
    expect(hostile.hits('/secret')).toBe(0);
    expect(readdirSync(s.out)).toEqual([`${id}-3.png`]);
  });

  it('lets a host named in MEDIAGEN_DOWNLOAD_ALLOW through, and only that name', async () => {
    const s = await connect(ALLOW_LOOPBACK);
    const id = await s.job([`${hostile.url}/media/d.png`, `http://localhost:${hostile.port}/media/e.png`]);
    const r = await s.call('jobs_wait', { job_id: id, download: true });
    expect(readFileSync(join(s.out, `${id}-1.png`)).equals(PNG)).toBe(true);
    expect(existsSync(join(s.out, `${id}-2.png`))).toBe(false);
    expect(sc(r)).toMatchObject({ download: { saved: [1], problems: [{ output: 2 }] } });
  });

  it('caps the outputs downloaded per job and says how many were skipped', async () => {
    const s = await connect({ ...ALLOW_LOOPBACK, MEDIAGEN_DOWNLOAD_MAX_OUTPUTS: '2' });
    const id = await s.job(['f', 'g', 'h', 'i', 'j'].map((n) => `${hostile.url}/media/${n}.png`));
    const r = await s.call('jobs_wait', { job_id: id, download: true });
    expect(readdirSync(s.out).sort()).toEqual([`${id}-1.png`, `${id}-2.png`]);
    expect(text(r)).toMatch(/3 more outputs not downloaded \(at most 2 per job/);
    expect(sc(r)).toMatchObject({ download: { saved: [1, 2], skipped: 3 } });
    expect((sc(r).outputs as unknown[]).length).toBe(5);
  });
});

describe('the sandbox address in sandbox mode only (item 7)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ pollsToComplete: 1 });
  });
  afterAll(() => sandbox.close());

  async function sandboxJob(argv: string[]) {
    const out = tempDir('mediagen-dl-');
    const c = await connectInMemory(
      argv,
      { MEDIAGEN_OUTPUT_DIR: out, MEDIAGEN_POLL_MS: '50' },
      { baseUrl: (p, d) => sandbox.baseUrl(p, d), key: sandbox.key },
    );
    closers.push(c.close);
    const call = async (name: string, args: Record<string, unknown>) =>
      (await c.client.callTool({ name, arguments: args })) as CallToolResult;
    const created = await call('phaya_text_to_image', { prompt: 'a paper boat' });
    const id = (sc(created).job_id ?? '') as string;
    return { out, call, id, created };
  }

  it('sandbox mode downloads from the sandbox; the same server without --sandbox refuses loopback', async () => {
    const on = await sandboxJob(['--sandbox', '--consent-off', 'phaya']);
    expect(on.id, text(on.created)).toMatch(/^job_/);
    const r1 = await on.call('jobs_wait', { job_id: on.id, download: true });
    expect(sc(r1), text(r1)).toMatchObject({ download: { saved: [1] } });
    const off = await sandboxJob(['--consent-off', 'phaya']);
    const r2 = await off.call('jobs_wait', { job_id: off.id, download: true });
    expect(text(r2)).toMatch(/Output 1 not downloaded: refused: 127\.0\.0\.1 is not a public address \(loopback\)/);
    expect(readdirSync(off.out)).toEqual([]);
  });
});

describe('concurrent downloads of one job (item 8)', () => {
  it('five simultaneous download:true calls all succeed, fetch each output once, and a later call reports them', async () => {
    const s = await connect(ALLOW_LOOPBACK);
    const id = await s.job([`${hostile.url}/media/k.png`, `${hostile.url}/media/l.png`]);
    const rs = await Promise.all(Array.from({ length: 5 }, () => s.call('jobs_wait', { job_id: id, download: true })));
    for (const r of rs) {
      expect(r.isError, text(r)).toBeFalsy();
      expect((sc(r).outputs as { path: string }[]).map((o) => o.path)).toEqual([
        join(s.out, `${id}-1.png`),
        join(s.out, `${id}-2.png`),
      ]);
    }
    expect(hostile.hits('/media/k.png')).toBe(1);
    expect(hostile.hits('/media/l.png')).toBe(1);
    expect(readdirSync(s.out).sort()).toEqual([`${id}-1.png`, `${id}-2.png`]);
    const again = await s.call('jobs_get', { job_id: id, download: true });
    expect(text(again)).toMatch(/Already downloaded: outputs 1, 2\./);
    expect(hostile.hits('/media/k.png')).toBe(1);
  });
});
