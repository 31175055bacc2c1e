/**
 * What a hostile call gets back and what it gets sent, through a real SDK client over stdio and the
 * sandbox's request counter: a 5 MB tool name and a 200,000-value enum come back excerpted; a URL argument
 * naming a loopback, private or link-local host (in any literal form) is refused with zero provider
 * requests, unless the operator allowed that host, or it is the sandbox's own address in sandbox mode.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTaskResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { phayaEnv, sc } from '../helpers/money.js';
import { ACME_FILE } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let sandbox: Sandbox;
let server: StdioServer;
beforeAll(async () => {
  sandbox = await startSandbox();
  server = await spawnStdio(phayaEnv(sandbox));
});
afterAll(async () => {
  await server?.close();
  await sandbox?.close();
});

describe('errors excerpt what they echo', () => {
  it('a 5 MB tool name comes back as a 200-character excerpt (plain and task-augmented call)', async () => {
    const name = 'n'.repeat(5_000_000);
    const r = (await server.client.callTool({ name, arguments: {} })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^NOT_FOUND: Unknown tool "n{200}… \(5000000 characters\)"/);
    expect(JSON.stringify(r).length).toBeLessThan(2_000);
    const err = await server.client
      .request({ method: 'tools/call', params: { name, arguments: {}, task: {} } }, CreateTaskResultSchema)
      .catch((e: unknown) => e as Error);
    expect(String(err)).toContain('(5000000 characters)');
    expect(String(err).length).toBeLessThan(2_000);
    expect(sandbox.stats().total).toBe(0);
  });

  it("a 200,000-value enum's error names the first 20 values and how many more", async () => {
    const hostile = await startHostileProvider();
    const cat = JSON.parse(readFileSync(ACME_FILE, 'utf8')) as {
      operations: { id: string; params?: { name: string; enum?: string[] }[] }[];
    };
    const model = cat.operations.find((o) => o.id === 'image_create')!.params!.find((p) => p.name === 'model')!;
    model.enum = ['fast', 'best', ...Array.from({ length: 199_998 }, (_, i) => `model-${i}`)];
    const file = join(tempDir('mediagen-cat-'), 'acme-enum.json');
    writeFileSync(file, JSON.stringify(cat));
    const s = await spawnStdio({ ACME_API_KEY: ACME_KEY, ACME_BASE_URL: hostile.url }, ['--catalogue', file]);
    try {
      const r = await s.call('acme_image_create', { prompt: 'a boat', model: 'nope' });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^BAD_ARGUMENTS: acme_image_create: model: not an allowed value/);
      expect(text(r)).toContain('one of fast, best, model-0,');
      expect(text(r)).toContain('model-17 … and 199980 more');
      expect(text(r)).not.toContain('model-18,');
      expect(JSON.stringify(r).length).toBeLessThan(5_000);
      expect(hostile.connections()).toBe(0);
    } finally {
      await s.close();
      await hostile.close();
    }
  });
});

const NOT_PUBLIC = [
  'http://169.254.169.254/latest/meta-data/',
  'http://2852039166/latest',
  'http://0xA9FEA9FE/',
  'http://0251.0376.0251.0376/',
  'http://169.254.1.1/',
  'http://127.0.0.1:8080/x.png',
  'http://2130706433/',
  'http://0/',
  'http://10.1.2.3/a.png',
  'http://172.16.0.9/a.png',
  'http://192.168.1.1/a.png',
  'http://[::1]/a.png',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:7f00:1]/',
  'http://[fe80::1]/a.png',
  'http://[fd12:3456::1]/a.png',
  'https://localhost/a.png',
  'http://printer.localhost/a.png',
  'http://localhost./a.png',
  'http://printer.localhost./a.png',
];

describe('URL arguments naming hosts that are not public', () => {
  it.each(NOT_PUBLIC)('%s is refused with BAD_ARGUMENTS and nothing is sent', async (url) => {
    const before = sandbox.stats().total;
    const one = await server.call('phaya_image_to_video', { image_url: url });
    expect(one.isError).toBe(true);
    expect(text(one)).toMatch(/^BAD_ARGUMENTS: phaya_image_to_video: image_url: .*not a public address/);
    const inList = await server.call('phaya_nano_banana', {
      prompt: 'a boat',
      image_input: ['https://example.com/ok.png', url],
    });
    expect(text(inList)).toMatch(/^BAD_ARGUMENTS: phaya_nano_banana: image_input\.1: .*not a public address/);
    expect(sandbox.stats().total).toBe(before);
  });

  it('a public URL is sent as before', async () => {
    const before = sandbox.stats().total;
    const r = await server.call('phaya_image_to_video', { image_url: 'https://example.com/cat.png' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(sc(r).job_id).toMatch(/^job_/);
    expect(sandbox.stats().total).toBeGreaterThan(before);
  });

  it('a host the operator allowed with --download-allow is sent', async () => {
    const s = await spawnStdio(phayaEnv(sandbox, { MEDIAGEN_DOWNLOAD_ALLOW: '10.1.2.3,169.254.169.254' }));
    try {
      const before = sandbox.stats().total;
      const ok = await s.call('phaya_image_to_video', { image_url: 'http://10.1.2.3/a.png' });
      expect(ok.isError, text(ok)).toBeFalsy();
      expect(sandbox.stats().total).toBeGreaterThan(before);
      const other = await s.call('phaya_image_to_video', { image_url: 'http://10.9.9.9/a.png' });
      expect(text(other)).toMatch(/^BAD_ARGUMENTS: .*10\.9\.9\.9 is not a public address/);
    } finally {
      await s.close();
    }
  });
});

describe('sandbox mode', () => {
  let hostile: HostileProvider | undefined;
  afterAll(async () => hostile?.close());

  it("the sandbox's own loopback URLs are accepted; other loopback ports are not", async () => {
    const s = await spawnStdio({ MEDIAGEN_SANDBOX: '1', MEDIAGEN_SANDBOX_PORT: '0' }, ['--sandbox']);
    try {
      let base: string | undefined;
      for (let i = 0; i < 100 && !base; i++) {
        base = /every provider points at (http:\/\/127\.0\.0\.1:\d+)/.exec(s.stderr())?.[1];
        if (!base) await new Promise((r) => setTimeout(r, 50));
      }
      expect(base).toBeDefined();
      const own = await s.call('phaya_image_to_video', { image_url: `${base}/_media/cat.png` });
      expect(own.isError, text(own)).toBeFalsy();
      hostile = await startHostileProvider();
      const other = await s.call('phaya_image_to_video', { image_url: `${hostile.url}/media/cat.png` });
      expect(text(other)).toMatch(/^BAD_ARGUMENTS: .*127\.0\.0\.1 is not a public address \(loopback\)/);
      expect(hostile.connections()).toBe(0);
    } finally {
      await s.close();
    }
  });
});
