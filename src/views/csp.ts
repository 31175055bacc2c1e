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

/** A host or origin as an operator writes it ("cdn.example.com", "https://*.example.com") as a CSP source. */
export function mediaHostSource(host: string): string | undefined {
  const h = host.trim();
  if (!h) return undefined;
  if (/^https?:\/\//i.test(h)) {
    const m = /^(https?:\/\/(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?)\/?$/i.exec(h);
    return m ? m[1].toLowerCase() : undefined;
  }
  return /^(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?$/i.test(h) ? `https://${h.toLowerCase()}` : undefined;
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
