/**
 * The origins a view may load media from (`_meta.ui.csp.resourceDomains`): only where outputs can be —
 * the output store (an S3-compatible bucket's host; a local folder has no URL), each loaded provider's API
 * origin (its base URL, the sandbox gateway's in sandbox mode, where its result URLs point), and the
 * result hosts an operator names (--view-media-hosts: providers answer result URLs on CDNs their
 * catalogues cannot name). Nothing else: no CDN, no connect-src (views reach the server only through the host).
 */

/** `https://host[:port]` of a URL, or undefined for one that is not http(s). */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One media host as an operator writes it: `cdn.example.com`, `*.example.com`, `cdn.example.com:8443`, or
 * the same as an http(s):// origin, with an optional trailing slash. Host names are dot-separated labels
 * of letters, digits and inner hyphens (so `-`, `..`, `a..b`, `-a.com` are refused); ports 1-65535.
 */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const MEDIA_HOST = new RegExp(`^(https?://)?((?:\\*\\.)?${LABEL}(?:\\.${LABEL})*)(?::(\\d{1,5}))?/?$`, 'i');

/** A host or origin as an operator writes it ("cdn.example.com", "https://*.example.com") as a CSP source. */
export function mediaHostSource(host: string): string | undefined {
  const m = MEDIA_HOST.exec(host.trim());
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  const scheme = (m[1] ?? 'https://').toLowerCase();
  return `${scheme}${m[2].toLowerCase()}${port !== undefined ? `:${port}` : ''}`;
}

export interface ViewDomainInputs {
  /** The output store's origin (s3), undefined for a local folder. */
  outputOrigin?: string;
  /** Each loaded provider's base URL (the sandbox's in sandbox mode). */
  baseUrls: readonly string[];
  /** Hosts or origins the operator added (--view-media-hosts). */
  extra?: readonly string[];
}

export function viewDomains(i: ViewDomainInputs): string[] {
  const out = new Set<string>();
  if (i.outputOrigin) out.add(i.outputOrigin);
  for (const b of i.baseUrls) {
    const o = originOf(b);
    if (o) out.add(o);
  }
  for (const h of i.extra ?? []) {
    const s = mediaHostSource(h);
    if (s) out.add(s);
  }
  return [...out];
}
