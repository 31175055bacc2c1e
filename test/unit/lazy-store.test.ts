/** The database is opened on the first call that needs it; an unwritable state folder still stops start-up. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { SQLITE_FILE } from '../../src/store/open.js';
import { connectInMemory, tempDir } from '../helpers/in-memory.js';

describe('lazy store', () => {
  it('listing tools opens no database; the first call that needs one does', async () => {
    const dir = tempDir();
    const { client, close } = await connectInMemory([], { MEDIAGEN_STATE_DIR: dir });
    expect((await client.listTools()).tools.length).toBeGreaterThan(20);
    expect(existsSync(join(dir, SQLITE_FILE))).toBe(false);
    const r = await client.callTool({ name: 'spend_report', arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(existsSync(join(dir, SQLITE_FILE))).toBe(true);
    await close();
  });

  it('a state folder that cannot be made stops start-up with its path', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const dir = join(file, 'state'); // under a file: not even root can create it
    const { config } = loadConfig([], { MEDIAGEN_STATE_DIR: dir });
    expect(() => createApp(config, silentLogger)).toThrow(`${dir}: the state folder is not writable`);
  });
});
