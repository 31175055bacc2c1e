/**
 * Where a download may connect. Result URLs come from providers, so a download is untrusted input: by
 * default it may not reach loopback, private, link-local (the cloud metadata address), unique-local,
 * unspecified, multicast or reserved addresses, in IPv4, IPv6 or IPv4-in-IPv6 form (addresses.ts). The
 * check runs on the address actually connected to (a guarded DNS lookup at connect time, and IP literals,
 * which Node never looks up), so neither a hostname nor a redirect gets around it. Operators let named
 * hosts through.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { Agent, buildConnector } from 'undici';
import { DownloadRefused, isAllowed, literalRefusal, refusalReason, type DownloadPolicy } from './addresses.js';
import { originKey } from './origin.js';

export { DownloadRefused, isAllowed, literalRefusal, originKey, refusalReason, type DownloadPolicy };

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls.connect that refuses a name if any address it resolves to is refused. */
export function guardedLookup(resolve: typeof dnsLookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const all: LookupAllOptions = { ...options, all: true };
    resolve(hostname, all, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses;
      const bad = list.find((a) => refusalReason(a.address) !== undefined);
      if (bad)
        return callback(
          new DownloadRefused(
            `${hostname} resolves to ${bad.address}, not a public address (${refusalReason(bad.address)})`,
          ),
          [],
        );
      if (list.length === 0) return callback(new DownloadRefused(`${hostname} did not resolve`), []);
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/**
 * An undici Agent for downloads only: every connection goes through the guard (allowed hosts and
 * origins excepted), with headers/body timeouts as a backstop to the caller's deadline.
 */
export function guardedAgent(policy: DownloadPolicy, timeoutMs = 30_000): Agent {
  const plain = buildConnector({ timeout: Math.min(timeoutMs, 10_000) });
  const guarded = buildConnector({ timeout: Math.min(timeoutMs, 10_000), lookup: guardedLookup(policy.resolve) });
  return new Agent({
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connections: 4,
    connect: (opts, callback) => {
      if (isAllowed(policy, opts.hostname, opts.port, opts.protocol)) return plain(opts, callback);
      const refused = literalRefusal(opts.hostname);
      if (refused) return callback(refused, null);
      guarded(opts, callback);
    },
  });
}
