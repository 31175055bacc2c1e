/**
 * Start-up failures never hang: the real CLI with the sandbox gateway on and stdin left open (as a client
 * holds it), and a store that cannot open. The process must close the gateway, print one fatal line and
 * exit non-zero by itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/paths.js';

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
  ms: number;
}

/** Starts `mediagen-mcp --sandbox` and never closes its stdin; resolves when it exits (killed after 10 s). */
function start(env: Record<string, string>): Promise<Exit> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, '--sandbox'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr, stdout, ms: Date.now() - started });
    }),
  );
}

/** The process failed with this code, by itself and fast, wrote nothing on stdout; its fatal lines. */
function failedFast(r: Exit, code: number): string[] {
  expect(r.code).toBe(code);
  expect(r.ms).toBeLessThan(5_000);
  expect(r.stdout).toBe('');
  return r.stderr.split('\n').filter((l) => l.startsWith('mediagen-mcp: '));
}

describe('start-up failures', () => {
  it('a state file that is not a database: one fatal line naming it, exit 1, no hang', async () => {
    const state = mkdtempSync(join(tmpdir(), 'mediagen-bad-state-'));
    const file = join(state, 'mediagen.sqlite');
    writeFileSync(file, 'this is not an SQLite database, just text long enough to have a header page');
    const r = await start({ MEDIAGEN_STATE_DIR: state });
    expect(failedFast(r, 1)).toEqual([
      `mediagen-mcp: fatal: cannot open the SQLite store ${file}: file is not a database`,
    ]);
  });

  it('a state folder that cannot be created (a file is in the way): exit 1, no hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediagen-bad-state-'));
    const blocker = join(dir, 'state');
    writeFileSync(blocker, 'a file, not a folder');
    const lines = failedFast(await start({ MEDIAGEN_STATE_DIR: blocker }), 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^mediagen-mcp: fatal: cannot open the SQLite store ${blocker}/mediagen\\.sqlite: .*(EEXIST|ENOTDIR)`),
    );
  });

  it('a state folder that is a directory named like the database: exit 1, no hang', async () => {
    const state = mkdtempSync(join(tmpdir(), 'mediagen-bad-state-'));
    mkdirSync(join(state, 'mediagen.sqlite'));
    expect(failedFast(await start({ MEDIAGEN_STATE_DIR: state }), 1)).toHaveLength(1);
  });

  it('a bad catalogue with the sandbox on: exit 2 and one line, no hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediagen-bad-cat-'));
    const cat = join(dir, 'bad.json');
    writeFileSync(cat, '{"provider": "Bad Name"}');
    const r = await start({ MEDIAGEN_STATE_DIR: join(dir, 'state'), MEDIAGEN_CATALOGUES: cat });
    expect(failedFast(r, 2)).toHaveLength(1);
  });

  it('better-sqlite3 built for another Node says what to do; on its own Node it opens', () => {
    // The installed better-sqlite3 is compiled for the system Node (20 here). Under the npm-package Node 22
    // that CI also runs this suite with, loading it must fail with the actionable sentence.
    const script =
      `import { openDatabase } from '${ROOT}dist/store/sqlite-driver.js';` +
      `try { openDatabase(':memory:', { driver: 'better-sqlite3' }).close(); console.log('opened'); }` +
      `catch (e) { console.log(e.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const out = r.stdout.trim();
    if (out === 'opened') return; // the compiled module matches this Node
    expect(out).toMatch(
      /^(better-sqlite3's native module was built for another Node; reinstall \(npm rebuild better-sqlite3\), or use Node >= 22\.13, which needs no native module \(module ABI \d+, this Node \d+\)|the SQLite store needs better-sqlite3 on Node [\d.]+, and it is not installed; .*)$/,
    );
  });
});
