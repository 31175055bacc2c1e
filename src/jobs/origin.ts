/** Download policy keys, without the guarded connector (ssrf.ts), so start-up need not load undici. */

/** A host as the policy spells it: lower-case, IPv6 brackets removed. */
export const bare = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** `host:port` as the policy spells it, from a URL's hostname, port and protocol. */
export function originKey(hostname: string, port: string | number, protocol: string): string {
  return `${bare(hostname)}:${port === '' || port === undefined ? (protocol === 'https:' ? 443 : 80) : port}`;
}
