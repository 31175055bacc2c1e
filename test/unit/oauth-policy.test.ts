/** The OAuth policy file: validation with file + JSON pointer errors, and which entry a grant gets. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPolicyFile, resolvePolicy } from '../../src/auth/policy.js';
import type { AuthGrant } from '../../src/auth/types.js';
import { loadConfig } from '../../src/config.js';
import { StartupError } from '../../src/errors.js';
import { principalConfig } from '../../src/principals.js';
import { tempDir } from '../helpers/in-memory.js';

const dir = tempDir();
let n = 0;
function write(doc: unknown): string {
  const file = join(dir, `policy-${n++}.json`);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return file;
}
const read = (doc: unknown, env: Record<string, string> = {}) => readPolicyFile(write(doc), env);
function refusal(doc: unknown, env: Record<string, string> = {}): string {
  const file = write(doc);
  try {
    readPolicyFile(file, env);
  } catch (e) {
    expect(e).toBeInstanceOf(StartupError);
    const msg = (e as Error).message;
    expect(msg.startsWith(`${file}: `)).toBe(true);
    return msg.slice(file.length + 2);
  }
  throw new Error('the policy file was accepted');
}
const grant = (principal: string, claims: Record<string, unknown> = {}): AuthGrant => ({
  principal,
  scopes: new Set(['mediagen:read']),
  claims: { sub: principal, ...claims },
  machine: false,
});

const POLICY = {
  version: 1,
  defaults: { caps: { day: { credits: 5 } } },
  subjects: { 'user-1': { caps: { day: { credits: 100 } }, consent: { confirm: 'all' } } },
  groups: {
    artists: { toolsets: ['image'], caps: { session: { credits: 20 } } },
    viewers: { readOnly: true },
  },
};

describe('readPolicyFile', () => {
  it('reads a valid file, with groupClaim defaulting to "groups" and empty subjects and groups', () => {
    expect(read(POLICY)).toMatchObject({ version: 1, groupClaim: 'groups', subjects: { 'user-1': {} } });
    expect(read({ version: 1, defaults: { refuse: true } })).toEqual({
      version: 1,
      groupClaim: 'groups',
      defaults: { refuse: true },
      subjects: {},
      groups: {},
    });
  });

  it('names the file and the JSON pointer of what is wrong', () => {
    expect(refusal('{ not json')).toMatch(/JSON/);
    expect(refusal({ defaults: {} })).toMatch(/^\/version: /);
    expect(refusal({ version: 1 })).toMatch(/^\/defaults: Required/);
    expect(refusal({ version: 1, defaults: {}, extra: 1 })).toMatch(/^\/: Unrecognized key.*extra/);
    expect(refusal({ ...POLICY, subjects: { a: { caps: { day: { credits: -1 } } } } })).toMatch(
      /^\/subjects\/a\/caps\/day\/credits: /,
    );
    expect(refusal({ ...POLICY, groups: { 'a/b': { tokenSha256: [] } } })).toMatch(
      /^\/groups\/a~1b: Unrecognized key.*tokenSha256/,
    );
    expect(refusal({ ...POLICY, subjects: { 'x\u0007': {} } })).toContain(
      ': 1-256 characters without control characters',
    );
    expect(refusal({ ...POLICY, subjects: { ['s'.repeat(257)]: {} } })).toMatch(/^\/subjects\/s+: 1-256/);
    expect(refusal({ version: 1, defaults: { refuse: true, readOnly: true } })).toMatch(
      /^\/defaults\/refuse: "refuse": true takes no settings/,
    );
    expect(refusal({ version: 1, defaults: { refuse: false } })).toMatch(/^\/defaults\/refuse: /);
    expect(refusal({ version: 1, defaults: {}, groupClaim: '' })).toMatch(/^\/groupClaim: /);
  });

  it('refuses names it could not keep: "__proto__" and groups named by whole numbers', () => {
    expect(refusal('{"version":1,"defaults":{},"subjects":{"__proto__":{"readOnly":true}}}')).toMatch(
      /^\/subjects\/__proto__: /,
    );
    expect(refusal({ ...POLICY, groups: { artists: {}, '42': {} } })).toMatch(/^\/groups\/42: .*file order/);
    expect(read({ ...POLICY, groups: { '042': {}, '-1': {}, '4294967295': {} } }).groups).toHaveProperty('042');
  });

  it('needs every provider key variable set, naming where it is used', () => {
    const doc = { ...POLICY, groups: { artists: { providerKeys: { PHAYA_API_KEY: 'ARTISTS_PHAYA_KEY' } } } };
    expect(refusal(doc)).toBe(
      '/groups/artists/providerKeys/PHAYA_API_KEY: environment variable ARTISTS_PHAYA_KEY is not set',
    );
    expect(refusal(doc, { ARTISTS_PHAYA_KEY: '  ' })).toMatch(/ARTISTS_PHAYA_KEY is not set/);
    expect(read(doc, { ARTISTS_PHAYA_KEY: 'k' }).groups.artists!.providerKeys).toEqual({
      PHAYA_API_KEY: 'ARTISTS_PHAYA_KEY',
    });
    const inDefaults = { version: 1, defaults: { providerKeys: { PHAYA_API_KEY: 'NOPE' } } };
    expect(refusal(inDefaults)).toMatch(/^\/defaults\/providerKeys\/PHAYA_API_KEY: environment variable NOPE/);
    const inSubject = { version: 1, defaults: {}, subjects: { 'a@b': { providerKeys: { X_KEY: 'NOPE' } } } };
    expect(refusal(inSubject)).toMatch(/^\/subjects\/a@b\/providerKeys\/X_KEY: /);
    expect(refusal({ version: 1, defaults: { providerKeys: { 'lower-case': 'X' } } })).toMatch(
      /^\/defaults\/providerKeys\/lower-case: /,
    );
  });
});

describe('resolvePolicy', () => {
  const policy = read(POLICY);

  it('without a policy file, serves every principal with the server settings', () => {
    expect(resolvePolicy(undefined, grant('anyone'))).toEqual({
      key: 'defaults',
      principal: { id: 'anyone', tokenSha256: [] },
    });
  });

  it('gives the subject entry first, even over a group the principal is in', () => {
    const r = resolvePolicy(policy, grant('user-1', { groups: ['artists'] }));
    expect(r).toEqual({
      key: 'subject:user-1',
      principal: { id: 'user-1', tokenSha256: [], caps: { day: { credits: 100 } }, consent: { confirm: 'all' } },
    });
  });

  it('then the first group in file order that the claim holds, as an array or a single string', () => {
    expect(resolvePolicy(policy, grant('u2', { groups: ['viewers', 'artists'] }))).toMatchObject({
      key: 'group:artists',
      principal: { id: 'u2', toolsets: ['image'] },
    });
    expect(resolvePolicy(policy, grant('u3', { groups: 'viewers' }))).toMatchObject({
      key: 'group:viewers',
      principal: { id: 'u3', readOnly: true },
    });
    expect(resolvePolicy(policy, grant('u4', { groups: [7, null, { a: 1 }, 'viewers'] }))).toMatchObject({
      key: 'group:viewers',
    });
  });

  it('reads the configured group claim only, matching names exactly', () => {
    const roles = read({ ...POLICY, groupClaim: 'https://example.com/roles' });
    expect(resolvePolicy(roles, grant('u5', { groups: ['artists'] }))).toMatchObject({ key: 'defaults' });
    expect(resolvePolicy(roles, grant('u5', { 'https://example.com/roles': ['artists'] }))).toMatchObject({
      key: 'group:artists',
    });
    expect(resolvePolicy(policy, grant('u6', { groups: ['Artists', 'artists '] }))).toMatchObject({ key: 'defaults' });
  });

  it('then the defaults, or a refusal when the defaults refuse', () => {
    expect(resolvePolicy(policy, grant('stranger', { groups: ['others'] }))).toEqual({
      key: 'defaults',
      principal: { id: 'stranger', tokenSha256: [], caps: { day: { credits: 5 } } },
    });
    const closed = read({ ...POLICY, defaults: { refuse: true } });
    const r = resolvePolicy(closed, grant('stranger'));
    expect(r).toEqual({ refused: expect.any(String) });
    expect(JSON.stringify(r)).not.toContain('stranger');
    expect(resolvePolicy(closed, grant('user-1'))).toMatchObject({ key: 'subject:user-1' });
    expect(resolvePolicy(closed, grant('x', { groups: 'viewers' }))).toMatchObject({ key: 'group:viewers' });
  });

  it('does not take inherited names for entries', () => {
    for (const id of ['constructor', 'toString', 'hasOwnProperty'])
      expect(resolvePolicy(policy, grant(id, { groups: ['constructor'] }))).toMatchObject({ key: 'defaults' });
    expect(resolvePolicy(policy, { ...grant('u7'), claims: Object.create({ groups: ['artists'] }) })).toMatchObject({
      key: 'defaults',
    });
  });

  it('hands out copies: changing a resolved principal leaves the policy as it was', () => {
    const r = resolvePolicy(policy, grant('u8', { groups: ['artists'] }));
    if (!('principal' in r)) throw new Error('refused');
    r.principal.toolsets!.push('video');
    expect(policy.groups.artists!.toolsets).toEqual(['image']);
  });

  it('yields a principal that principalConfig serves with its caps, consent and provider keys', () => {
    const withKeys = read(
      { ...POLICY, groups: { artists: { providerKeys: { PHAYA_API_KEY: 'ARTISTS_KEY' }, tools: ['a_tool'] } } },
      { ARTISTS_KEY: 'k' },
    );
    const { config } = loadConfig(['--transport', 'http'], {
      MEDIAGEN_STATE_DIR: tempDir(),
      ARTISTS_KEY: 'artists-key',
      PHAYA_API_KEY: 'server-key',
    });
    const sub = resolvePolicy(withKeys, grant('user-1'));
    const grp = resolvePolicy(withKeys, grant('u9', { groups: ['artists'] }));
    if (!('principal' in sub) || !('principal' in grp)) throw new Error('refused');
    expect(principalConfig(config, sub.principal)).toMatchObject({ confirm: 'all', capDay: { credits: 100 } });
    const g = principalConfig(config, grp.principal);
    expect(g.env.PHAYA_API_KEY).toBe('artists-key');
    expect(g.tools).toEqual(['a_tool']);
    expect(principalConfig(config, sub.principal).env.PHAYA_API_KEY).toBe('server-key');
  });
});
