/**
 * The download deadline survives garbage collection (issue 9, item 6): in a child Node with --expose-gc,
 * collecting garbage every 100 ms while the sandbox drips 1 byte a second, a 1.5 s deadline still fires.
 * (A bare AbortSignal.timeout inside AbortSignal.any could be collected and never fire.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());

const CHILD = `
const { downloadOutput } = await import(process.argv[1] + 'dist/jobs/download.js');
const { guardedAgent } = await import(process.argv[1] + 'dist/jobs/ssrf.js');
const policy = { allowHosts: new Set(['127.0.0.1']), allowOrigins: new Set() };
const dispatcher = guardedAgent(policy);
const gc = setInterval(() => globalThis.gc(), 100);
const started = Date.now();
const caller = new AbortController();
try {
  await downloadOutput('job_gc', 1, { url: process.argv[2], kind: 'image' },
    { dir: process.argv[3], maxBytes: 1e6, timeoutMs: 1500, signal: caller.signal, dispatcher, policy });
  console.log('finished');
} catch (e) {
  console.log(e.name, Date.now() - started);
}
clearInterval(gc);
await dispatcher.destroy();
`;

it('a 1.5 s download deadline fires under forced garbage collection', async () => {
  // async (not spawnSync): the sandbox in this process must keep dripping while the child downloads
  const r = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', CHILD, ROOT, `${sandbox.url}/_media/drip/sample.png`, tempDir()],
    { encoding: 'utf8', timeout: 30_000 },
  );
  expect(r.stderr).toBe('');
  const [name, ms] = r.stdout.trim().split(' ');
  expect(name).toBe('DownloadIncomplete');
  expect(Number(ms)).toBeLessThan(10_000);
});
