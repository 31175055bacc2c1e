/**
 * Which URLs the verifier fetches on an issuer's word: the metadata's jwks_uri and introspection endpoint
 * may be http to loopback only when the issuer itself is loopback; a remote issuer's metadata may not send
 * us to plain http, localhost, or an IP literal that is loopback, private, link-local or unspecified.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAuthUrl, discoverIssuer } from '../../src/auth/discovery.js';
import { resourceOf } from '../../src/auth/verify.js';
import { StartupError } from '../../src/errors.js';

const REMOTE = new URL('https://auth.example.com');
const LOCAL = new URL('http://127.0.0.1:9999');

describe('checkAuthUrl beside an issuer', () => {
  it('a loopback issuer may name http loopback URLs; a remote one may not', () => {
    expect(checkAuthUrl('http://127.0.0.1:1/jwks', 'jwks_uri', LOCAL).href).toBe('http://127.0.0.1:1/jwks');
    expect(checkAuthUrl('https://keys.example.com/jwks', 'jwks_uri', REMOTE).host).toBe('keys.example.com');
    for (const bad of [
      'http://127.0.0.1/jwks',
      'http://keys.example.com/jwks',
      'https://localhost/jwks',
      'https://127.0.0.1/jwks',
      'https://[::1]/jwks',
      'https://10.0.0.5/jwks',
      'https://192.168.1.1/jwks',
      'https://169.254.169.254/latest/meta-data',
      'https://0.0.0.0/jwks',
      'https://[::ffff:127.0.0.1]/jwks',
      'https://[fe80::1]/jwks',
    ])
      expect(() => checkAuthUrl(bad, 'jwks_uri', REMOTE), bad).toThrow(/must be https|must not point/);
  });
});

describe('discovery of a remote issuer whose metadata points inside', () => {
  let server: Server;
  let jwks = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: REMOTE.origin, jwks_uri: jwks }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  // The remote issuer's name reaches the real loopback server, as a DNS entry would send it there.
  const to = (): typeof fetch => (input, init) => {
    const u = new URL(input instanceof Request ? input.url : String(input));
    return fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${u.pathname}`, init);
  };

  it('refuses a jwks_uri at http loopback or the metadata address, accepts a public https one', async () => {
    jwks = 'http://127.0.0.1:8080/jwks';
    await expect(discoverIssuer(REMOTE.origin, to())).rejects.toThrow(/jwks_uri must be https/);
    jwks = 'https://169.254.169.254/jwks';
    await expect(discoverIssuer(REMOTE.origin, to())).rejects.toThrow(/jwks_uri must not point/);
    jwks = 'https://keys.example.com/jwks';
    expect((await discoverIssuer(REMOTE.origin, to())).jwks_uri).toBe(jwks);
  });
});

describe('the resource URL built from --public-url', () => {
  it('lower-cases scheme and host, keeps the path, and refuses a query, a fragment or credentials', () => {
    expect(resourceOf('HTTPS://MCP.Example.COM')).toBe('https://mcp.example.com/mcp');
    expect(resourceOf('https://mcp.example.com/base/')).toBe('https://mcp.example.com/base/mcp');
    expect(resourceOf('http://127.0.0.1:8931')).toBe('http://127.0.0.1:8931/mcp');
    for (const bad of ['https://mcp.example.com/?a=1', 'https://mcp.example.com/#top', 'https://mcp.example.com?'])
      expect(() => resourceOf(bad), bad).toThrow(/query or a fragment/);
    expect(() => resourceOf('https://u:p@mcp.example.com')).toThrow(/credentials/);
    expect(() => resourceOf('not a url')).toThrow(StartupError);
  });
});
