/** `mediagen-mcp token add` and the tokens file's validation at start. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/principals.js';
import { tempDir } from '../helpers/in-memory.js';
import { CLI } from '../helpers/paths.js';
import { connectHttp, spawnHttp } from '../helpers/http-server.js';

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir(), ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tokens file', () => {
  it('token add creates the file, stores only the hash, prints the token alone; the token then authenticates', async () => {
    const file = join(tempDir(), 'tokens.json');
    const r = run(['token', 'add', 'team-a', '--tokens-file', file]);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    expect(token.length).toBeGreaterThanOrEqual(40);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(token);
    expect(JSON.parse(stored)).toEqual({
      version: 1,
      principals: [{ id: 'team-a', tokenSha256: [sha256Hex(token)] }],
    });
    const second = run(['token', 'add', 'team-a', '--tokens-file', file]).stdout.trim();
    expect(second).not.toBe(token);
    expect(
      (JSON.parse(readFileSync(file, 'utf8')) as { principals: { tokenSha256: string[] }[] }).principals[0].tokenSha256,
    ).toHaveLength(2);

    const server = await spawnHttp({ MEDIAGEN_STATE_DIR: tempDir() }, ['--tokens-file', file]);
    try {
      const c = await connectHttp(server.url, second);
      expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
      await c.close();
      expect(server.stderr()).not.toContain(second);
    } finally {
      await server.stop();
    }
  });

  it('a bad tokens file stops start-up with exit 2, naming the file and the JSON pointer', () => {
    const file = join(tempDir(), 'tokens.json');
    writeFileSync(file, JSON.stringify({ version: 1, principals: [{ id: 'ok', tokenSha256: ['not-hex'] }] }));
    const r = run(['--transport', 'http', '--port', '0', '--tokens-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`mediagen-mcp: ${file}: /principals/0/tokenSha256/0: expected a lowercase hex SHA-256`);
  });

  it('a provider key named by a variable that is not set stops start-up, naming the variable, not a value', () => {
    const file = join(tempDir(), 'tokens.json');
    writeFileSync(
      file,
      JSON.stringify({ principals: [{ id: 'cust', providerKeys: { PHAYA_API_KEY: 'CUSTOMER_PHAYA_KEY' } }] }),
    );
    const r = run(['--transport', 'http', '--port', '0', '--tokens-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '/principals/0/providerKeys/PHAYA_API_KEY: environment variable CUSTOMER_PHAYA_KEY is not set',
    );
  });
});
