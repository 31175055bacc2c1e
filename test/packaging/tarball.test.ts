/**
 * The npm tarball as `npx mediagen-mcp` gets it, installed without optional dependencies (so without
 * better-sqlite3, as npm does when it skips install scripts) and started for real: serve over stdio,
 * initialize, tools/list, free calls that open the store, one guarded job. CI packs and installs it into a
 * folder and runs this file under the npm-package Node 22 with MEDIAGEN_TARBALL_PREFIX set to that folder;
 * without it (plain `npm test`) the file is skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFreeCalls, expectGuardedJob, expectToolList } from '../helpers/smoke.js';
import { tempDir } from '../helpers/in-memory.js';
import { spawnStdio, type StdioServer } from '../helpers/stdio.js';

const prefix = process.env.MEDIAGEN_TARBALL_PREFIX;
/** A Node without node:sqlite (CI: the system Node 20), to show what still needs the native module there. */
const oldNode = process.env.MEDIAGEN_OTHER_NODE;

describe.skipIf(prefix === undefined)(`installed npm tarball under Node ${process.versions.node}`, () => {
  const pkg = join(prefix ?? '', 'node_modules', 'mediagen-mcp');
  let server: StdioServer;

  beforeAll(async () => {
    const home = tempDir();
    server = await spawnStdio(
      { HOME: home, MEDIAGEN_STATE_DIR: join(home, 'state') },
      ['--sandbox'],
      {},
      join(pkg, 'dist', 'cli.js'),
    );
  });
  afterAll(() => server?.close());

  it('is installed without better-sqlite3', () => {
    expect(existsSync(join(pkg, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(join(prefix ?? '', 'node_modules', 'better-sqlite3'))).toBe(false);
    expect(existsSync(join(pkg, 'node_modules', 'better-sqlite3'))).toBe(false);
  });

  it.skipIf(oldNode === undefined)('on a Node without node:sqlite, stops at once saying what to install', () => {
    const r = spawnSync(oldNode!, [join(pkg, 'dist', 'cli.js'), '--sandbox'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: join(tempDir(), 'state') },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mediagen-mcp: '))).toEqual([
      expect.stringMatching(
        /^mediagen-mcp: fatal: cannot open the SQLite store .*: the SQLite store needs better-sqlite3 on Node 20\.[\d.]+, and it is not installed; npm install better-sqlite3, or use Node >= 22\.13, which needs no native module$/,
      ),
    ]);
  });

  it('serves: tools/list, free calls that open the store, one guarded job to its result', async () => {
    await expectToolList(server);
    await expectFreeCalls(server);
    await expectGuardedJob(server);
    expect(server.stderr()).not.toMatch(/fatal|NODE_MODULE_VERSION/);
  });
});
