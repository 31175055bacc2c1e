/**
 * The authorization server's metadata (RFC 8414, or OpenID Connect Discovery), fetched as untrusted
 * input: https only (http only to a loopback host), no redirects, a bounded body, a deadline, and an
 * `issuer` that must equal the configured one exactly (RFC 8414 §3.3), so a document served for another
 * issuer cannot lend us its keys.
 */
import { literalRefusal } from '../jobs/addresses.js';

/** The fields the resource server uses; everything else in the document is ignored. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
}

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const MAX_BODY = 256 * 1024;

export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.test(hostname);

/**
 * https, or http to localhost / 127.x / [::1]; no credentials or fragment in the URL. With `issuer`, the
 * URL is one we fetch on the issuer's word or beside it (jwks_uri, introspection): http to loopback only
 * when the issuer itself is loopback; for any other issuer https only, and no IP literal that is
 * loopback, private, link-local or unspecified (jobs/addresses.ts), so metadata cannot point us inside.
 */
export function checkAuthUrl(raw: string, what: string, issuer?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DiscoveryError(`${what} is not a URL`);
  }
  const local = issuer === undefined || LOOPBACK.test(issuer.hostname);
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && local && LOOPBACK.test(url.hostname));
  if (!ok)
    throw new DiscoveryError(
      `${what} must be https${local ? ' (http only to a loopback host)' : ' (the issuer is not loopback)'}: ${url.origin}`,
    );
  if (!local && (url.hostname.toLowerCase() === 'localhost' || literalRefusal(url.hostname)))
    throw new DiscoveryError(`${what} must not point at a loopback, private or link-local address: ${url.origin}`);
  if (url.username || url.password) throw new DiscoveryError(`${what} must not carry credentials`);
  if (url.hash) throw new DiscoveryError(`${what} must not carry a fragment`);
  return url;
}

/**
 * The metadata URLs to try, in the order of the MCP authorization spec: RFC 8414 with path insertion,
 * OpenID Connect with path insertion, then OpenID Connect with the path appended.
 */
export function metadataUrls(issuer: URL): URL[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  const urls = [
    `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.origin}/.well-known/openid-configuration${path}`,
  ];
  if (path) urls.push(`${issuer.origin}${path}/.well-known/openid-configuration`);
  return urls.map((u) => new URL(u));
}

/** A JSON body under MAX_BODY from a 2xx answer, or a DiscoveryError naming the URL's origin and path. */
export async function fetchJson(
  fetchFn: typeof fetch,
  url: URL,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; json: unknown }> {
  const where = `${url.origin}${url.pathname}`;
  let res: Response;
  try {
    res = await fetchFn(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
  } catch (err) {
    throw new DiscoveryError(
      `${where}: ${err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'unreachable'}`,
    );
  }
  const text = await readBounded(res, where);
  if (res.status < 200 || res.status > 299) return { status: res.status, json: undefined };
  try {
    return { status: res.status, json: JSON.parse(text) as unknown };
  } catch {
    throw new DiscoveryError(`${where}: the answer is not JSON`);
  }
}

export async function readBounded(res: Response, where: string): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel();
      throw new DiscoveryError(`${where}: the answer is larger than ${MAX_BODY} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fetches the issuer's metadata from the first well-known URL that answers 2xx. */
export async function discoverIssuer(
  issuer: string,
  fetchFn: typeof fetch = fetch,
  timeoutMs = 10_000,
): Promise<IssuerMetadata> {
  const base = checkAuthUrl(issuer, '--oauth-issuer');
  const tried: string[] = [];
  for (const url of metadataUrls(base)) {
    const { status, json } = await fetchJson(fetchFn, url, { method: 'GET' }, timeoutMs);
    if (json === undefined) {
      tried.push(`${url.pathname} (${status})`);
      continue;
    }
    if (!isObject(json)) throw new DiscoveryError(`${url.origin}${url.pathname}: the metadata is not a JSON object`);
    if (json.issuer !== issuer)
      throw new DiscoveryError(
        `the metadata at ${url.origin}${url.pathname} names issuer ${JSON.stringify(String(json.issuer)).slice(0, 200)}, not ${issuer}`,
      );
    const optionalUrl = (key: 'jwks_uri' | 'introspection_endpoint'): string | undefined => {
      const v = json[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new DiscoveryError(`the issuer's ${key} is not a string`);
      return checkAuthUrl(v, `the issuer's ${key}`, base).href;
    };
    return { issuer, jwks_uri: optionalUrl('jwks_uri'), introspection_endpoint: optionalUrl('introspection_endpoint') };
  }
  throw new DiscoveryError(`no authorization server metadata for ${issuer}: tried ${tried.join(', ')}`);
}
