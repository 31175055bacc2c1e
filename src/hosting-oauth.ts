/**
 * OAuth principals of a hosted server (`--auth oauth`): not known at start, each is served on first sight
 * with the settings its policy entry gives (subject, group claim, or the defaults, which may refuse). The
 * tool list of a grant holds only what its scopes allow (toolsFor).
 */
import type { App } from './app.js';
import { readPolicyFile, resolvePolicy, type PolicyFile } from './auth/policy.js';
import { SCOPE_GENERATE, SCOPE_READ, type AuthGrant, type TokenVerifier } from './auth/types.js';
import type { Config } from './config.js';
import { LOCAL_PRINCIPAL, type Principal } from './principals.js';
import { oauthResource, type OAuthResource } from './transports/http-oauth.js';
import type { OAuthGuard } from './transports/http-oauth.js';

export interface OAuthPrincipals {
  guard: OAuthGuard;
  resource: OAuthResource;
  /** The policy entry of a grant's principal: its key (apps are per principal and entry) and settings. */
  settingsOf(grant: AuthGrant): { key: string; principal: Principal } | { refused: string };
}

/** Bidirectional embedding, override and isolate controls: they make a principal read as another in logs. */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

export function oauthPrincipals(config: Config, verifier: TokenVerifier): OAuthPrincipals {
  const policy: PolicyFile | undefined = config.oauthPolicy
    ? readPolicyFile(config.oauthPolicy, config.env)
    : undefined;
  // checkAuthConfig made sure both are there.
  const resource = oauthResource(config.publicUrl ?? '', config.oauthIssuer ?? '');
  const settingsOf = (grant: AuthGrant): { key: string; principal: Principal } | { refused: string } =>
    // `local` is stdio's principal (a state dir may hold its jobs): OAuth ids are `oauth:<claim>` and
    // cannot be it, but a subject named so is refused all the same, as a likely misconfigured claim.
    grant.principal === LOCAL_PRINCIPAL
      ? { refused: `the principal "${LOCAL_PRINCIPAL}" is reserved` }
      : BIDI.test(grant.principal)
        ? { refused: 'the principal claim holds bidirectional control characters' }
        : resolvePolicy(policy, grant);
  return {
    resource,
    settingsOf,
    guard: {
      verifier,
      resource,
      refuse: (grant) => {
        const s = settingsOf(grant);
        return 'refused' in s ? s.refused : undefined;
      },
    },
  };
}

/** The tools a grant with only mediagen:read may list and call: the free ones (lists, quotes, job reads). */
export function freeTools(app: App): Set<string> {
  return new Set([
    ...app.registry.tools.filter((t) => t.op.readOnly).map((t) => t.name),
    ...app.serverTools.filter((t) => t.annotations.readOnlyHint === true).map((t) => t.name),
  ]);
}

/**
 * The tools a grant lists: all with both scopes (undefined), the free ones with mediagen:read alone, the
 * others (paid, cancel, uploads, approve) with mediagen:generate alone: neither scope implies the other.
 */
export function toolsFor(app: App, scopes: ReadonlySet<string>): Set<string> | undefined {
  const read = scopes.has(SCOPE_READ);
  const generate = scopes.has(SCOPE_GENERATE);
  if (read && generate) return undefined;
  const free = freeTools(app);
  if (read) return free;
  const all = [...app.registry.tools.map((t) => t.name), ...app.serverTools.map((t) => t.name)];
  return new Set(all.filter((n) => !free.has(n)));
}
