/**
 * --auth oauth's cross-field rules fail the start with one fatal line (exit 2) before anything listens:
 * HTTP only, an issuer, a public URL, not beside a tokens file, and introspection with its client.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/in-memory.js';
import { CLI } from '../helpers/paths.js';

const HTTP = ['--transport', 'http', '--port', '0'];
const ISSUER = ['--oauth-issuer', 'http://127.0.0.1:9'];
const PUBLIC = ['--public-url', 'https://mcp.example.test'];

function fatal(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir(), ...env },
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('mediagen-mcp: '))
    .join('\n');
}

describe('--auth oauth start-up checks', () => {
  it('needs --transport http', () => {
    expect(fatal(['--auth', 'oauth', ...ISSUER, ...PUBLIC])).toMatch(/--auth oauth needs --transport http/);
  });
  it('needs --oauth-issuer and --public-url', () => {
    expect(fatal([...HTTP, '--auth', 'oauth', ...PUBLIC])).toMatch(/--auth oauth needs --oauth-issuer/);
    expect(fatal([...HTTP, '--auth', 'oauth', ...ISSUER])).toMatch(/--auth oauth needs --public-url/);
  });
  it('refuses a tokens file beside it', () => {
    const file = join(tempDir(), 'tokens.json');
    writeFileSync(file, JSON.stringify({ version: 1, principals: [] }));
    expect(fatal([...HTTP, '--auth', 'oauth', ...ISSUER, ...PUBLIC, '--tokens-file', file])).toMatch(
      /--auth oauth replaces --tokens-file/,
    );
  });
  it('introspection needs the client id and the secret (from the environment); OAuth flags need --auth oauth', () => {
    const intro = ['--oauth-introspection', 'http://127.0.0.1:9/introspect'];
    expect(fatal([...HTTP, '--auth', 'oauth', ...ISSUER, ...PUBLIC, ...intro])).toMatch(
      /--oauth-introspection needs --oauth-client-id and MEDIAGEN_OAUTH_CLIENT_SECRET/,
    );
    expect(fatal([...HTTP, '--auth', 'oauth', ...ISSUER, ...PUBLIC, ...intro, '--oauth-client-id', 'rs'])).toMatch(
      /MEDIAGEN_OAUTH_CLIENT_SECRET/,
    );
    expect(fatal([...HTTP, ...intro])).toMatch(/--oauth-introspection needs --auth oauth/);
  });
});
