/**
 * The HTTP side of `--auth oauth`: the RFC 9728 protected resource metadata, the `WWW-Authenticate`
 * challenges of a 401 / 403 (RFC 6750 §3, RFC 9728 §5.1), and the scope a request body needs, decided
 * before the body reaches MCP (so a refused call makes no provider request).
 */
import type { ServerResponse } from 'node:http';
import {
  PRM_PATH_MCP,
  SCOPE_GENERATE,
  SCOPE_READ,
  SCOPES_SUPPORTED,
  type AuthFailure,
  type AuthGrant,
  type TokenVerifier,
} from '../auth/types.js';
import type { Verdict } from './http-guard.js';

export interface OAuthResource {
  /** `<public-url>/mcp`: the resource (the audience of its tokens). */
  resource: string;
  /** Where the metadata is: `<public-url>/.well-known/oauth-protected-resource/mcp`. */
  metadataUrl: string;
  issuer: string;
}

export function oauthResource(publicUrl: string, issuer: string): OAuthResource {
  const base = publicUrl.replace(/\/+$/, '');
  return { resource: `${base}/mcp`, metadataUrl: `${base}${PRM_PATH_MCP}`, issuer };
}

/** The RFC 9728 document served at PRM_PATH_MCP and PRM_PATH. */
export function sendMetadata(res: ServerResponse, r: OAuthResource): void {
  const doc = {
    resource: r.resource,
    authorization_servers: [r.issuer],
    scopes_supported: [...SCOPES_SUPPORTED],
    bearer_methods_supported: ['header'],
    resource_name: 'mediagen-mcp',
  };
  res
    .writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'max-age=300',
      'Access-Control-Allow-Origin': '*',
    })
    .end(JSON.stringify(doc));
}

const quoted = (s: string): string => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');

/**
 * The challenge of a refusal: `resource_metadata` and the scopes to ask for, and with a token that was
 * sent the RFC 6750 error and its description.
 */
export function challenge(r: OAuthResource, failure?: AuthFailure): string {
  const scope = failure?.scope ?? SCOPES_SUPPORTED.join(' ');
  const parts = [`resource_metadata="${quoted(r.metadataUrl)}"`, `scope="${quoted(scope)}"`];
  if (failure) parts.push(`error="${failure.error}"`, `error_description="${quoted(failure.description)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** Does a token carry any mediagen scope? (Neither scope implies the other.) */
export function hasMediagenScope(scopes: ReadonlySet<string>): boolean {
  return scopes.has(SCOPE_READ) || scopes.has(SCOPE_GENERATE);
}

/** JSON-RPC methods that change jobs whatever the tool: a task's cancel cancels its job. */
const GENERATE_METHODS = new Set(['tasks/cancel']);

/**
 * The scopes a POST body (one message or a batch) needs: a tools/call of a tool `paid` says needs
 * generate (paid tools, cancel, uploads, approve) needs mediagen:generate, of any other mediagen:read; a
 * method that changes a job needs generate. Other methods need only some mediagen scope (checked before).
 */
export function neededScopes(body: unknown, paid: (tool: string) => boolean): Set<string> {
  const out = new Set<string>();
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const { method, params } = m as { method?: unknown; params?: unknown };
    if (typeof method !== 'string') continue;
    if (GENERATE_METHODS.has(method)) out.add(SCOPE_GENERATE);
    if (method !== 'tools/call') continue;
    const name = params && typeof params === 'object' ? (params as { name?: unknown }).name : undefined;
    out.add(typeof name === 'string' && paid(name) ? SCOPE_GENERATE : SCOPE_READ);
  }
  return out;
}

export function insufficientScope(scope: string, description: string): AuthFailure {
  return { status: 403, error: 'insufficient_scope', description, scope };
}

/** `--auth oauth`: access tokens checked by the verifier, refusals with the resource's challenge. */
export interface OAuthGuard {
  verifier: TokenVerifier;
  resource: OAuthResource;
  /** Refuse this grant's principal (e.g. the policy refuses it, or it names a reserved principal). */
  refuse?: (grant: AuthGrant) => string | undefined;
}

/** An access token's verdict: its grant, or the refusal with the challenge naming the resource metadata. */
export async function oauthVerdict(token: string | undefined, g: OAuthGuard): Promise<Verdict> {
  if (token === undefined)
    return {
      ok: false,
      status: 401,
      message: 'Unauthorized: bearer token required',
      headers: { 'WWW-Authenticate': challenge(g.resource) },
    };
  const result = await g.verifier.verify(token);
  if (!result.ok) {
    const f = result.failure;
    const headers: Record<string, string> =
      f.status === 503 ? { 'Retry-After': '5' } : { 'WWW-Authenticate': challenge(g.resource, f) };
    const what = f.status === 503 ? 'Service unavailable' : f.status === 403 ? 'Forbidden' : 'Unauthorized';
    const expired = f.expired === true;
    return {
      ok: false,
      status: f.status,
      message: `${what}: ${f.description}`,
      headers,
      failedAttempt: f.status === 401 && !expired,
    };
  }
  const grant = result.grant;
  if (!hasMediagenScope(grant.scopes)) {
    const f = insufficientScope(SCOPE_READ, 'the token carries no mediagen scope');
    return {
      ok: false,
      status: 403,
      message: `Forbidden: ${f.description}`,
      headers: { 'WWW-Authenticate': challenge(g.resource, f) },
    };
  }
  const refused = g.refuse?.(grant);
  if (refused) return { ok: false, status: 403, message: `Forbidden: ${refused}` };
  return { ok: true, principal: oauthPrincipalId(grant.principal), grant };
}

/**
 * The principal id (ledger, jobs, storage keys) of an OAuth subject: `oauth:<claim value>`. No tokens-file
 * id and not `local` holds a colon, so a subject can never share their jobs or credits. The policy file
 * keys subjects by the raw claim value.
 */
export const oauthPrincipalId = (claim: string): string => `oauth:${claim}`;
