/**
 * URL arguments are fetched by the provider, from wherever it runs, so a URL that names a loopback,
 * private or link-local host (the cloud metadata address 169.254.169.254 among them) is refused before
 * anything is sent: in any literal form the URL parser accepts (decimal, octal or hex IPv4 such as
 * http://2852039166/, IPv6, IPv4-mapped IPv6) and `localhost`. Hosts the operator lets downloads reach
 * (--download-allow) and, in sandbox mode, the sandbox's own address are allowed here too. The address
 * ranges are the download guard's (jobs/addresses.ts). Names are not resolved: the provider resolves them.
 */
import type { Field, Operation } from '../catalogue/format.js';
import { MediagenError } from '../errors.js';
import { isAllowed, literalRefusal } from '../jobs/addresses.js';
import { bare } from '../jobs/origin.js';

/** The allow lists of the download policy, reused for URL arguments. */
export interface UrlPolicy {
  allowHosts: ReadonlySet<string>;
  allowOrigins: ReadonlySet<string>;
}

type Fields = readonly (Field & { properties?: readonly Field[] })[];

/** Why this URL's host may not be handed to a provider, or undefined. */
export function urlRefusal(value: string, policy: UrlPolicy): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined; // not a URL at all: the schema already refused it
  }
  if (isAllowed(policy, u.hostname, u.port, u.protocol)) return undefined;
  // One trailing dot is the same name (`localhost.` is localhost); the URL parser keeps it.
  const host = bare(u.hostname).replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is not a public address (loopback)`;
  return literalRefusal(u.hostname)?.message;
}

/** Every URL-typed value in the (validated) arguments, with the path that names it. */
function urlValues(fields: Fields, args: Readonly<Record<string, unknown>>, prefix: string): [string, string][] {
  const out: [string, string][] = [];
  for (const f of fields) {
    const v = Object.hasOwn(args, f.name) ? args[f.name] : undefined;
    const path = `${prefix}${f.name}`;
    if (typeof v === 'string' && f.format === 'url') out.push([path, v]);
    else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (typeof item === 'string' && f.items === 'url') out.push([`${path}.${i}`, item]);
        else if (item && typeof item === 'object' && f.properties)
          out.push(...urlValues(f.properties, item as Record<string, unknown>, `${path}.${i}.`));
      });
    } else if (v && typeof v === 'object' && f.properties)
      out.push(...urlValues(f.properties, v as Record<string, unknown>, `${path}.`));
  }
  return out;
}

/** BAD_ARGUMENTS (nothing sent) when a URL argument names a host that is not public. */
export function checkUrlArguments(
  tool: string,
  op: Pick<Operation, 'params'>,
  args: Readonly<Record<string, unknown>>,
  policy: UrlPolicy | undefined,
): void {
  if (!policy) return;
  const refused = urlValues(op.params, args, '')
    .map(([path, url]) => [path, urlRefusal(url, policy)] as const)
    .filter((x): x is readonly [string, string] => x[1] !== undefined);
  if (!refused.length) return;
  const lines = refused.slice(0, 8).map(([path, why]) => `${path}: ${why}`);
  throw new MediagenError(
    'BAD_ARGUMENTS',
    `${tool}: ${lines.join('; ')}. The provider fetches URL arguments, so they must name public hosts; an operator can let a host through with --download-allow. Nothing was sent.`,
    { tool, issues: refused.slice(0, 8).map(([path, message]) => ({ path, message })) },
  );
}
