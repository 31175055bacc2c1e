/**
 * A server killed mid-download leaves its temp file behind; the next start removes it. Only our own
 * temp files (the `.job_…-<n>.<hex>.part` pattern), directly in the output folder, and only once they are
 * older than any download's deadline: a fresh one (another process may be writing it) and the user's own
 * files stay. The built server over stdio, a real SDK Client, a hostile provider that drips its output.
 */
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_KEY, startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.js';
import { tempDir } from '../helpers/in-memory.js';
import { until } from '../helpers/money.js';
import { ACME_FILE } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

let hostile: HostileProvider;
beforeAll(async () => {
  hostile = await startHostileProvider();
});
afterAll(async () => hostile?.close());

const env = (stateDir: string, out: string) => ({
  ACME_API_KEY: ACME_KEY,
  ACME_BASE_URL: hostile.url,
  MEDIAGEN_STATE_DIR: stateDir,
  MEDIAGEN_OUTPUT_DIR: out,
  MEDIAGEN_POLL_MS: '50',
  MEDIAGEN_DOWNLOAD_ALLOW: '127.0.0.1',
});
const parts = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.part'));
const tenMinutesAgo = (path: string): void => {
  const t = new Date(Date.now() - 10 * 60_000);
  utimesSync(path, t, t);
};

describe('orphan temp files of downloads', () => {
  it('a .part left by a SIGKILL mid-download is removed at the next start; fresh and foreign files stay', async () => {
    const stateDir = tempDir();
    const out = join(tempDir('mediagen-out-'), 'out');
    let first: StdioServer | undefined = await spawnStdio(env(stateDir, out), ['--catalogue', ACME_FILE]);
    let orphan: string;
    try {
      hostile.setOutputs([`${hostile.url}/drip`]);
      const created = await first.call('acme_image_create', { prompt: 'a dripping boat' });
      expect(created.isError, text(created)).toBeFalsy();
      const id = (created.structuredContent as { job_id: string }).job_id;
      void first.call('jobs_wait', { job_id: id, download: true }).catch(() => undefined);
      await until(() => existsSync(out) && parts(out).length === 1, 15_000);
      orphan = parts(out)[0];
      process.kill(first.pid!, 'SIGKILL');
      await first.close().catch(() => undefined);
      first = undefined;
    } finally {
      await first?.close();
    }
    expect(parts(out)).toEqual([orphan]);
    // It is an orphan once older than any download's deadline; so are these, which are not ours:
    tenMinutesAgo(join(out, orphan));
    const foreign = ['holiday.part', '.job_notours.part', '.job_abc-1.0123456789abcdef.part.keep', 'photo.png'];
    for (const f of foreign) {
      writeFileSync(join(out, f), 'mine');
      tenMinutesAgo(join(out, f));
    }
    mkdirSync(join(out, 'sub'));
    writeFileSync(join(out, 'sub', '.job_abc-1.0123456789abcdef.part'), 'nested');
    tenMinutesAgo(join(out, 'sub', '.job_abc-1.0123456789abcdef.part'));
    const fresh = '.job_mj0fresh01234567-2.fedcba9876543210.part';
    writeFileSync(join(out, fresh), 'being written');

    const second = await spawnStdio(env(stateDir, out), ['--catalogue', ACME_FILE]);
    try {
      await second.client.listTools();
      expect(existsSync(join(out, orphan))).toBe(false);
      for (const f of [...foreign, fresh]) expect(existsSync(join(out, f)), f).toBe(true);
      expect(existsSync(join(out, 'sub', '.job_abc-1.0123456789abcdef.part'))).toBe(true);
      expect(second.stderr()).toMatch(/removed 1 stale partial download/);
    } finally {
      await second.close();
    }
  });
});
