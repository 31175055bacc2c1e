/** The views' media origins (views/csp.ts) and the operator's --view-media-hosts. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { mediaHostSource, viewDomains } from '../../src/views/csp.js';

describe('view media origins', () => {
  it('are the output bucket, each provider origin and the hosts an operator adds, each once', () => {
    expect(
      viewDomains({
        outputOrigin: 'https://media.s3.eu-west-1.amazonaws.com',
        baseUrls: ['https://api.phaya.io/api/v1', 'https://api.phaya.io/other', 'https://openapi.media.io/v1', ''],
        extra: ['cdn.example.com', 'https://*.cdn.example.net', 'http://127.0.0.1:9000/'],
      }),
    ).toEqual([
      'https://media.s3.eu-west-1.amazonaws.com',
      'https://api.phaya.io',
      'https://openapi.media.io',
      'https://cdn.example.com',
      'https://*.cdn.example.net',
      'http://127.0.0.1:9000',
    ]);
  });

  it('never let a host write a directive of its own', () => {
    for (const bad of ["cdn.example.com; script-src 'unsafe-eval'", 'https://cdn.example.com/path', "'self'", 'data:'])
      expect(mediaHostSource(bad), bad).toBeUndefined();
  });

  it('--view-media-hosts and MEDIAGEN_VIEW_MEDIA_HOSTS are read, and a path is refused at start', () => {
    expect(
      loadConfig(['--view-media-hosts', 'cdn.example.com,https://*.example.net'], {}).config.viewMediaHosts,
    ).toEqual(['cdn.example.com', 'https://*.example.net']);
    expect(loadConfig([], { MEDIAGEN_VIEW_MEDIA_HOSTS: 'a.example.com' }).config.viewMediaHosts).toEqual([
      'a.example.com',
    ]);
    expect(() => loadConfig(['--view-media-hosts', 'https://cdn.example.com/x'], {})).toThrow(
      /view-media-hosts|viewMediaHosts|origins/i,
    );
  });

  it('refuses a malformed host in both places with one rule: -, .., empty labels, bad ports', () => {
    const bad = [
      '-',
      '..',
      'a..b.com',
      '-a.com',
      'a-.com',
      '.example.com',
      'example.com.',
      'cdn.example.com:0',
      'cdn.example.com:70000',
      'https://',
      '*',
      '*.',
      'a b.com',
      'https://cdn.example.com//',
    ];
    for (const h of bad) {
      expect(mediaHostSource(h), h).toBeUndefined();
      expect(() => loadConfig([], { MEDIAGEN_VIEW_MEDIA_HOSTS: h }), h).toThrow(/expected a host name or origin/);
    }
    const good: [string, string][] = [
      ['cdn.example.com', 'https://cdn.example.com'],
      ['CDN.Example.com:8443/', 'https://cdn.example.com:8443'],
      ['*.example.com', 'https://*.example.com'],
      ['http://localhost:9000', 'http://localhost:9000'],
      ['https://cdn-1.example.com/', 'https://cdn-1.example.com'],
    ];
    for (const [h, source] of good) {
      expect(mediaHostSource(h), h).toBe(source);
      expect(loadConfig(['--view-media-hosts', h], {}).config.viewMediaHosts).toEqual([h]);
    }
  });
});
