/**
 * With no provider configured (no key set, no --sandbox), only the free tools are served: the start-up
 * log, `models` and `quote` say so and name the way out (--sandbox, or the key variables).
 */
import type { Registry } from './registry.js';

/** The note, or undefined when some provider is configured (or none is left out). */
export function noProviderNote(r: Pick<Registry, 'catalogues' | 'unconfigured' | 'needs'>): string | undefined {
  const served = r.catalogues.filter((c) => !r.unconfigured.includes(c.provider));
  if (served.length > 0 || r.needs.length === 0) return undefined;
  const keys = r.needs.map((n) => n.env.join(' with ')).join(', or ');
  return (
    'No provider is configured (no API key is set), so no generation tool is offered. To try every tool ' +
    `without a key and without spending, start the server with --sandbox (or MEDIAGEN_SANDBOX=1); for real calls set ${keys}.`
  );
}
