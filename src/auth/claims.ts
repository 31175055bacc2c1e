/**
 * From a checked token's claims (a JWT payload or an introspection answer) to a grant: the principal
 * claim, the scopes, the expiry. Claims are untrusted input even after the signature checks out.
 */
import type { AuthFailure, AuthGrant, AuthResult } from './types.js';

// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MAX_PRINCIPAL = 256;
const MAX_SCOPES = 64;

/**
 * An RFC 6750 error_description: printable ASCII other than `"` and `\` (%x20-21 / %x23-5B / %x5D-7E);
 * anything else becomes `?`, quotes become `'`, at most 300 characters. Every failure goes through it.
 */
export function errorDescription(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')
    .slice(0, 300);
}

export const invalid = (description: string): { ok: false; failure: AuthFailure } => ({
  ok: false,
  failure: { status: 401, error: 'invalid_token', description: errorDescription(description) },
});

/** 503: no RFC 6750 error code (none fits "try again later"). */
export const unavailable = (description: string): { ok: false; failure: AuthFailure } => ({
  ok: false,
  failure: { status: 503, description: errorDescription(description) },
});

/** `scope` (space-separated, RFC 8693 / 9068) or `scp` (an array, or a string, as some servers send). */
export function scopesOf(claims: Readonly<Record<string, unknown>>): Set<string> {
  const raw = claims.scope ?? claims.scp;
  const list = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : [];
  const out = new Set<string>();
  for (const s of list) {
    if (typeof s === 'string' && s.length > 0 && s.length <= 128 && !CONTROL.test(s)) out.add(s);
    if (out.size >= MAX_SCOPES) break;
  }
  return out;
}

/** The principal: a string of 1-256 characters with no control characters, or a refusal naming the claim. */
export function grantOf(claims: Readonly<Record<string, unknown>>, principalClaim: string): AuthResult {
  // A sender-constrained token (DPoP, mTLS: RFC 9449 / 8705) is bound to a key whose proof we cannot check.
  if (claims.cnf !== undefined) return invalid('sender-constrained access tokens (cnf) are not supported');
  const value = claims[principalClaim];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PRINCIPAL || CONTROL.test(value))
    return invalid(`the token has no usable "${principalClaim}" claim (a string of 1-${MAX_PRINCIPAL} characters)`);
  // An email is mutable and may be unverified: as the principal, only a verified one (OIDC Core §5.1).
  if (principalClaim === 'email' && claims.email_verified !== true)
    return invalid('the token email is not verified (email_verified), and email is the principal claim');
  const grant: AuthGrant = {
    principal: value,
    machine: isMachine(claims),
    scopes: scopesOf(claims),
    claims,
    expiresAt: typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : undefined,
  };
  return { ok: true, grant };
}

/** A client acting for itself: `sub` is its `client_id` or `azp`, or there is a `client_id` and no `sub`. */
export function isMachine(claims: Readonly<Record<string, unknown>>): boolean {
  const { sub, client_id: clientId, azp } = claims;
  if (sub === undefined) return clientId !== undefined;
  return (clientId !== undefined && sub === clientId) || (azp !== undefined && sub === azp);
}

/**
 * Claims an issuer keeps stable for one account (`sub`, Entra ID `oid`, a client's id). Any other principal
 * claim gets a warning at start: a mutable one (email, preferred_username, name) lets one account take
 * another's policy entry, jobs and spend once it is renamed to the other's value.
 */
export const STABLE_PRINCIPAL_CLAIMS: ReadonlySet<string> = new Set(['sub', 'oid', 'client_id', 'azp', 'appid']);

/** `aud` as a string or an array of strings contains `resource`. */
export function audienceHas(aud: unknown, resource: string): boolean {
  return aud === resource || (Array.isArray(aud) && aud.includes(resource));
}
