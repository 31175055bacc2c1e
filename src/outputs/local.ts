/**
 * The --output-dir folder as the output store, confined exactly as downloads are (jobs/download.ts,
 * jobs/results.ts): a flat folder that must not be a symbolic link, plain file names `<job id>-<n>.<ext>`,
 * outputs spooled into `.part` files created exclusively in the same folder, then renamed into place.
 * A local folder has no URL a provider or a remote agent can fetch: its "link" is the absolute path.
 * The download code (and undici with it) is loaded on first use, not at start-up.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MediagenError } from '../errors.js';
import { confinedPath } from '../jobs/results.js';
import type { OutputStore } from './store.js';

export class LocalStore implements OutputStore {
  readonly kind = 'local' as const;

  readonly identity: string;

  constructor(private readonly dir: string | undefined) {
    this.identity = `local:${dir ? resolve(dir) : ''}`;
  }

  private folder(): string {
    if (!this.dir)
      throw new MediagenError(
        'NOT_CONFIGURED',
        'Keeping outputs locally needs an output folder (MEDIAGEN_OUTPUT_DIR).',
      );
    return this.dir;
  }

  async spoolDir(): Promise<string> {
    const dir = this.folder();
    const { prepareFolder } = await import('../jobs/download.js');
    await prepareFolder(dir);
    return dir;
  }

  outputKey(_principal: string, jobId: string, n: number, ext: string): string {
    return `${jobId}-${n}.${ext}`;
  }

  /** Local keys are file names in one flat folder; a job's own key is all a job ever names. */
  owns(): boolean {
    return true;
  }

  async holds(_principal: string, key: string): Promise<boolean> {
    if (!this.dir) return false;
    try {
      return (await lstat(confinedPath(this.dir, key))).isFile();
    } catch {
      return false;
    }
  }

  async putFile(key: string, file: string): Promise<void> {
    const dir = this.folder();
    const target = confinedPath(dir, key);
    if (file === target) return;
    try {
      const { prepareFolder } = await import('../jobs/download.js');
      await prepareFolder(dir);
      await rename(file, target);
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
  }

  async link(key: string): Promise<string> {
    return confinedPath(this.folder(), key);
  }

  /** The file `key` in the folder, opened without following a link or waiting on a FIFO. */
  async read(key: string, maxBytes: number): Promise<Buffer | undefined> {
    if (!this.dir) return undefined;
    const fd = await open(
      confinedPath(this.dir, key),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    ).catch(() => undefined);
    if (!fd) return undefined;
    try {
      const st = await fd.stat();
      if (!st.isFile() || st.size > maxBytes) return undefined;
      return await fd.readFile();
    } finally {
      await fd.close();
    }
  }

  /** Written to a fresh `.part` file (exclusive create), then renamed into place. */
  async write(key: string, data: Uint8Array): Promise<void> {
    const dir = this.folder();
    const target = confinedPath(dir, key);
    const part = confinedPath(dir, `.${key}.${randomBytes(8).toString('hex')}.part`);
    try {
      await writeFile(part, data, { flag: 'wx', mode: 0o644 });
      await rename(part, target);
    } finally {
      await rm(part, { force: true });
    }
  }

  async close(): Promise<void> {}
}
