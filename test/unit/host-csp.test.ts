/** The host page's policy insertion (src/views/app/host-csp.ts): the CSP meta comes before any script. */
import { describe, expect, it } from 'vitest';
import { withCsp } from '../../src/views/app/host-csp.js';

const POLICY = "default-src 'none'";
const META = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`;

describe('withCsp', () => {
  it('puts the policy first in the head, after a doctype, comments and <html>', () => {
    expect(withCsp('<!doctype html><html lang="en"><head><title>v</title></head><body></body></html>', POLICY)).toBe(
      `<!doctype html><html lang="en"><head>${META}<title>v</title></head><body></body></html>`,
    );
    expect(withCsp('<!-- built -->\n<html>\n<head data-x="1">', POLICY)).toBe(
      `<!-- built -->\n<html>\n<head data-x="1">${META}`,
    );
  });

  it('does not take <header> for <head>', () => {
    const out = withCsp('<!doctype html><header><script>x()</script></header>', POLICY);
    expect(out.indexOf(META)).toBeLessThan(out.indexOf('<script>'));
    expect(out).toBe(`<!doctype html><head>${META}</head><header><script>x()</script></header>`);
  });

  it('gives HTML without a head one, before its first markup', () => {
    expect(withCsp('<script>x()</script><p>hi</p>', POLICY)).toBe(`<head>${META}</head><script>x()</script><p>hi</p>`);
  });

  it('refuses HTML with markup (a script, a body) before its <head>', () => {
    expect(() => withCsp('<script>steal()</script><head></head>', POLICY)).toThrow(/markup before its <head>/);
    expect(() => withCsp('<!doctype html><html><body><head></head>', POLICY)).toThrow(/markup before its <head>/);
  });
});
