/**
 * Which addresses are not public (loopback, private, link-local with the cloud metadata address,
 * unique-local, unspecified, multicast, reserved; IPv4, IPv6 and IPv4-in-IPv6 forms) and what an operator
 * lets through. Pure address logic without undici: the download guard (ssrf.ts) and the URL-argument
 * check (tools/url-arguments.ts) share it.
 */
import type { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { bare, originKey } from './origin.js';

/** Thrown (or passed to a connect callback) when a download target is refused. */
export class DownloadRefused extends Error {
  readonly code = 'DOWNLOAD_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'DownloadRefused';
  }
}

const RANGES: readonly (readonly [string, 'ipv4' | 'ipv6', string, number])[] = [
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['shared (carrier-grade NAT)', 'ipv4', '100.64.0.0', 10],
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['cloud metadata, link-local', 'ipv4', '169.254.169.254', 32],
  ['link-local', 'ipv4', '169.254.0.0', 16],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['reserved', 'ipv4', '192.0.2.0', 24],
  ['reserved', 'ipv4', '192.88.99.0', 24],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  ['reserved', 'ipv4', '198.51.100.0', 24],
  ['reserved', 'ipv4', '203.0.113.0', 24],
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['reserved', 'ipv4', '240.0.0.0', 4],
  ['unspecified', 'ipv6', '::', 128],
  ['loopback', 'ipv6', '::1', 128],
  ['reserved', 'ipv6', '100::', 64],
  ['reserved', 'ipv6', '2001:db8::', 32],
  ['unique-local', 'ipv6', 'fc00::', 7],
  ['link-local', 'ipv6', 'fe80::', 10],
  ['site-local', 'ipv6', 'fec0::', 10],
  ['multicast', 'ipv6', 'ff00::', 8],
];

const LISTS: readonly (readonly [string, BlockList])[] = (() => {
  const byLabel = new Map<string, BlockList>();
  for (const [label, family, net, prefix] of RANGES) {
    const list = byLabel.get(label) ?? new BlockList();
    list.addSubnet(net, prefix, family);
    byLabel.set(label, list);
  }
  return [...byLabel.entries()];
})();

/** The eight 16-bit words of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function ipv6Words(ip: string): number[] | undefined {
  let s = ip.replace(/%.*$/, '');
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const b = dotted[2].split('.').map(Number);
    s = `${dotted[1]}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const words = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail].map((h) => parseInt(h, 16));
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : undefined;
}

const dottedOf = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(ip: string): string | undefined {
  const w = ipv6Words(ip);
  if (!w) return undefined;
  const zero = (from: number, to: number): boolean => w.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && (w[5] === 0xffff || w[5] === 0) && (w[6] !== 0 || w[7] > 1)) return dottedOf(w[6], w[7]);
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return dottedOf(w[6], w[7]);
  if (w[0] === 0x2002) return dottedOf(w[1], w[2]);
  return undefined;
}

/** Why connecting to this IP address is refused (e.g. "loopback"), or undefined when it is allowed. */
export function refusalReason(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) {
      const inner = refusalReason(v4);
      return inner ? `${inner} (IPv4 inside IPv6)` : undefined;
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(([, list]) => list.check(ip, type))?.[0];
}

/** Hosts and origins an operator (or sandbox mode) lets through, and the resolver behind the guard. */
export interface DownloadPolicy {
  /** Host names or IP literals (any port), lower case, IPv6 without brackets. */
  allowHosts: ReadonlySet<string>;
  /** `host:port` pairs (sandbox mode: the sandbox's own address). */
  allowOrigins: ReadonlySet<string>;
  /** DNS resolver under the guard (tests inject one); default node:dns lookup. */
  resolve?: typeof dnsLookup;
}

export function isAllowed(policy: DownloadPolicy, hostname: string, port: string | number, protocol: string): boolean {
  return policy.allowHosts.has(bare(hostname)) || policy.allowOrigins.has(originKey(hostname, port, protocol));
}

/** The refusal for an IP literal host, or undefined (names are checked when they are resolved). */
export function literalRefusal(hostname: string): DownloadRefused | undefined {
  const host = bare(hostname);
  if (isIP(host) === 0) return undefined;
  const why = refusalReason(host);
  return why ? new DownloadRefused(`${host} is not a public address (${why})`) : undefined;
}
