/**
 * The pure parts of the OAuth token check: which URLs of the authorization server are allowed, where its
 * metadata is looked for, and how claims become a grant. (The checks against a real server are in
 * test/integration/oauth-verify.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { audienceHas, grantOf, scopesOf } from '../../src/auth/claims.js';
import { checkAuthUrl, metadataUrls } from '../../src/auth/discovery.js';
import { resourceOf } from '../../src/auth/verify.js';

describe('authorization server URLs', () => {
  it('https anywhere, http only to a loopback host, never credentials or a fragment', () => {
    expect(checkAuthUrl('https://auth.example.com', 'x').host).toBe('auth.example.com');
    for (const ok of ['http://127.0.0.1:9000', 'http://localhost/x', 'http://[::1]:80', 'http://127.1.2.3'])
      expect(() => checkAuthUrl(ok, 'x')).not.toThrow();
    for (const bad of ['http://auth.example.com', 'http://10.0.0.1', 'ftp://127.0.0.1', 'http://localhost.evil.com'])
      expect(() => checkAuthUrl(bad, 'x'), bad).toThrow(/must be https/);
    expect(() => checkAuthUrl('https://u:p@auth.example.com', 'x')).toThrow(/credentials/);
    expect(() => checkAuthUrl('https://auth.example.com/#f', 'x')).toThrow(/fragment/);
    expect(() => checkAuthUrl('not a url', 'x')).toThrow(/not a URL/);
  });

  it('metadata is looked for by RFC 8414 path insertion, then OpenID Connect (inserted, then appended)', () => {
    expect(metadataUrls(new URL('https://auth.example.com')).map(String)).toEqual([
      'https://auth.example.com/.well-known/oauth-authorization-server',
      'https://auth.example.com/.well-known/openid-configuration',
    ]);
    expect(metadataUrls(new URL('https://auth.example.com/tenants/t1/')).map(String)).toEqual([
      'https://auth.example.com/.well-known/oauth-authorization-server/tenants/t1',
      'https://auth.example.com/.well-known/openid-configuration/tenants/t1',
      'https://auth.example.com/tenants/t1/.well-known/openid-configuration',
    ]);
  });

  it('the resource is <public-url>/mcp', () => {
    expect(resourceOf('https://media.example.com')).toBe('https://media.example.com/mcp');
    expect(resourceOf('https://media.example.com/base/')).toBe('https://media.example.com/base/mcp');
  });
});

describe('claims to a grant', () => {
  it('scopes from scope (space-separated) or scp (array or string), junk dropped', () => {
    expect([...scopesOf({ scope: 'mediagen:read  mediagen:generate' })]).toEqual([
      'mediagen:read',
      'mediagen:generate',
    ]);
    expect([...scopesOf({ scp: ['mediagen:read', 7, '', 'a\nb'] })]).toEqual(['mediagen:read']);
    expect([...scopesOf({ scp: 'mediagen:generate' })]).toEqual(['mediagen:generate']);
    expect([...scopesOf({ scope: 42 })]).toEqual([]);
    expect(scopesOf({ scope: Array.from({ length: 500 }, (_, i) => `s${i}`).join(' ') }).size).toBe(64);
  });

  it('the principal claim must be a string of 1-256 characters without control characters', () => {
    const ok = grantOf({ sub: 'alice', exp: 100, scope: 'mediagen:read' }, 'sub');
    expect(ok.ok && ok.grant).toMatchObject({ principal: 'alice', expiresAt: 100 });
    for (const sub of [undefined, '', 5, ['a'], 'x'.repeat(257), 'a\u0007b', 'a\u2028b']) {
      const r = grantOf({ sub }, 'sub');
      expect(r.ok, JSON.stringify(sub)).toBe(false);
      if (!r.ok) expect(r.failure).toMatchObject({ status: 401, error: 'invalid_token' });
    }
    expect(grantOf({ sub: 'x'.repeat(256) }, 'sub').ok).toBe(true);
    const byOid = grantOf({ sub: 'a', oid: 'user-7' }, 'oid');
    expect(byOid.ok && byOid.grant.principal).toBe('user-7');
  });

  it('aud as a string or an array must hold the resource exactly', () => {
    const r = 'https://m.example.com/mcp';
    expect(audienceHas(r, r)).toBe(true);
    expect(audienceHas(['x', r], r)).toBe(true);
    expect(audienceHas(`${r}/`, r)).toBe(false);
    expect(audienceHas('https://m.example.com', r)).toBe(false);
    expect(audienceHas(undefined, r)).toBe(false);
    expect(audienceHas({ r }, r)).toBe(false);
  });
});
