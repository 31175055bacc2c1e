/**
 * The contract of OAuth mode (`--auth oauth`): the two scopes, what a checked access token grants, and
 * why one is refused. The verifier (verify.ts) turns a bearer token into an AuthResult; the HTTP guard
 * turns a refusal into its status and `WWW-Authenticate` header (RFC 6750 §3, RFC 9728 §5.1).
 */

/** Free tools: lists, quotes, models, job reads, balances, the views. */
export const SCOPE_READ = 'mediagen:read';
/** Paid tools, cancel and uploads (anything that spends or changes a job). Implies nothing else. */
export const SCOPE_GENERATE = 'mediagen:generate';
export const SCOPES_SUPPORTED = [SCOPE_READ, SCOPE_GENERATE] as const;

/** RFC 9728 paths: the metadata of resource `<public-url>/mcp`, and the bare one some clients try first. */
export const PRM_PATH = '/.well-known/oauth-protected-resource';
export const PRM_PATH_MCP = `${PRM_PATH}/mcp`;

/** What a valid access token grants. */
export interface AuthGrant {
  /** The principal: the value of --oauth-principal-claim (default `sub`). */
  principal: string;
  /** Scopes the token carries (space-separated `scope` claim, or `scp` array). */
  scopes: ReadonlySet<string>;
  /** The token's claims (JWT payload, or the introspection answer): the policy file reads groups here. */
  claims: Readonly<Record<string, unknown>>;
  /** Seconds since the epoch when the token expires (caches never outlive it). */
  expiresAt?: number;
  /**
   * The token's subject is a client acting for itself (client credentials): `sub` equals `client_id` or
   * `azp`, or there is no `sub` but a `client_id`. Such a grant is served only when the policy file names
   * its principal under `subjects` (policy.ts resolvePolicy).
   */
  machine: boolean;
}

/**
 * Why a token is refused: `invalid_token` (401) or `insufficient_scope` (403), RFC 6750 §3.1. A 503 (the
 * authorization server or its keys are unreachable) carries no `error`: RFC 6750 has no code for it, so
 * the `WWW-Authenticate` header names none.
 */
export interface AuthFailure {
  status: 401 | 403 | 503;
  /** Present with 401 and 403; absent with 503. */
  error?: 'invalid_token' | 'insufficient_scope';
  /**
   * For the client and the log: never the token, never a claim value beyond iss / aud. Printable ASCII
   * without `"` or `\` (RFC 6750 §3 error_description), so it can be quoted in a header as it is.
   */
  description: string;
  /** With insufficient_scope: the scope(s) the request needs. */
  scope?: string;
  /** The token was valid but has expired: not a guess, so not a failed attempt of its address. */
  expired?: true;
}

export type AuthResult = { ok: true; grant: AuthGrant } | { ok: false; failure: AuthFailure };

/** Turns a bearer token into a grant. One per server; keys and introspection answers are cached inside. */
export interface TokenVerifier {
  verify(token: string): Promise<AuthResult>;
  /** Fetch the issuer's metadata (and JWKS) once at start: a wrong issuer fails the start, not a request. */
  ready(): Promise<void>;
}
