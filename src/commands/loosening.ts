/**
 * Settings that loosen consent, named for the tool a command is about to price or run. The command line
 * prints each on stderr itself, whatever `--log-level` says: a call that would ask the person must never
 * run unasked without a word. Every way config can weaken consent is here:
 *   --consent-off / MEDIAGEN_CONSENT_OFF            no prompt for the provider at all
 *   --confirm-above / MEDIAGEN_CONFIRM_ABOVE        a threshold above the catalogue's
 *   --prices / MEDIAGEN_PRICES                      a price other than the catalogue's in any way (a row, a rate),
 *                                                   or one it does not know
 *   --trust-observed-prices / ..._OBSERVED_PRICES   an observed price standing in for an unknown one
 *   --catalogue / MEDIAGEN_CATALOGUES               any paid tool of a catalogue of one's own: that file sets its
 *                                                   prices and consent rules, whatever key it spends with
 * A lower threshold, an overlay entry identical to the catalogue or `--confirm all` print nothing.
 */
import { resolve } from 'node:path';
import type { PriceExpr } from '../catalogue/format.js';
import { loadCatalogues, SHIPPED_CATALOGUES, type LoadedCatalogue } from '../catalogue/load.js';
import { loadPriceOverlay } from '../catalogue/prices.js';
import type { Config } from '../config.js';
import { amountText, describePrice } from '../guard/price.js';
import type { ToolSpec } from '../tools/build.js';

/** How the setting was given: the flag if it was typed on this command line, otherwise its variable. */
function source(configArgv: readonly string[], flag: string, variable: string): string {
  const typed = configArgv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  return typed ? `--${flag}` : variable;
}

/** The same price written with its keys in any order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * How `overlay` changes the catalogue's price of `name` (undefined when it is the very same price). Any
 * change is named: a row or rate lowered inside the same range charges less at some arguments, runs
 * unasked below the threshold and reserves less against the caps, and no summary of two prices can tell.
 */
function changed(name: string, overlay: PriceExpr, catalogue: PriceExpr, currency: string): string | undefined {
  if ('unknown' in overlay && 'unknown' in catalogue) return undefined;
  if (canonical(overlay) === canonical(catalogue)) return undefined;
  const said = describePrice(overlay, currency);
  const was = describePrice(catalogue, currency);
  const unasked = `; below the threshold ${name} runs without asking you`;
  if ('unknown' in catalogue) return `gives ${name} a price its catalogue does not know (${said})${unasked}`;
  if ('unknown' in overlay)
    return `makes the price of ${name} unknown (catalogue: ${was}); the overlay, not the catalogue, prices it`;
  if (said === was) return `prices ${name} differently from its catalogue at some arguments (both ${said})${unasked}`;
  return `prices ${name} at ${said} (catalogue: ${was})${unasked}`;
}

/** The catalogue's own price of this tool, before any overlay. */
function cataloguePrice(tool: ToolSpec): PriceExpr | undefined {
  const own = loadCatalogues([tool.catalogue.file]).find((c) => c.provider === tool.catalogue.provider);
  return own?.operations.find((op) => op.id === tool.op.id)?.price;
}

/**
 * A paid tool of a catalogue that is not a shipped one: that file alone sets its prices, its threshold and
 * what is always asked, whatever key it reads (a shipped provider's variable, or another holding the
 * same key), so it is named every time.
 */
function ownCatalogue(tool: ToolSpec, loaded: readonly LoadedCatalogue[]): string | undefined {
  const cat = tool.catalogue;
  if (SHIPPED_CATALOGUES.includes(resolve(cat.file))) return undefined;
  const shipped = loaded.find((c) => SHIPPED_CATALOGUES.includes(resolve(c.file)) && c.auth.env === cat.auth.env);
  return (
    `${tool.name} comes from your own catalogue ${cat.file}; its prices and consent rules are that file's ` +
    `(asked from ${amountText(cat.consent.confirmAbove, cat.currency)})` +
    (shipped ? `, and it spends with ${cat.auth.env}, the key of ${shipped.provider}` : '')
  );
}

/**
 * One sentence per setting that loosens consent for this tool (none for a free tool). `loaded`: every
 * catalogue in use, to tell when a catalogue of one's own reads a shipped provider's key variable.
 */
export function loosenedConsent(
  config: Config,
  configArgv: readonly string[],
  tool: ToolSpec,
  loaded: readonly LoadedCatalogue[] = [],
): string[] {
  const price = tool.op.price;
  if (!tool.paid || !price) return [];
  const provider = tool.catalogue.provider;
  const name = tool.name;
  const mine = ownCatalogue(tool, loaded);
  const out = mine ? [`${source(configArgv, 'catalogue', 'MEDIAGEN_CATALOGUES')} ${mine}`] : [];
  if (config.consentOff.includes(provider)) {
    const from = source(configArgv, 'consent-off', 'MEDIAGEN_CONSENT_OFF');
    return [...out, `${from} ${provider}: ${name} runs without asking you, whatever its price (caps still apply)`];
  }
  // Every paid call is asked about: thresholds, prices and observations no longer decide.
  if (config.confirm === 'all') return [];
  const limit = config.confirmAbove[provider];
  const own = tool.catalogue.consent.confirmAbove;
  if (limit !== undefined && limit > own) {
    const from = source(configArgv, 'confirm-above', 'MEDIAGEN_CONFIRM_ABOVE');
    const currency = tool.catalogue.currency;
    out.push(
      `${from} ${provider}=${limit}: ${name} is asked about only from ${amountText(limit, currency)} ` +
        `(catalogue: ${amountText(own, currency)})`,
    );
  }
  if (config.prices && Object.hasOwn(loadPriceOverlay(config.prices).prices, name)) {
    const before = cataloguePrice(tool);
    const why = before
      ? changed(name, price, before, tool.catalogue.currency)
      : `sets the price of ${name}; below the threshold ${name} runs without asking you`;
    if (why) out.push(`${source(configArgv, 'prices', 'MEDIAGEN_PRICES')} ${config.prices} ${why}`);
  }
  // Only a price that can be unknown for some arguments (not one fixed amount) can be stood in for.
  if (config.trustObservedPrices && !('credits' in price)) {
    const from = source(configArgv, 'trust-observed-prices', 'MEDIAGEN_TRUST_OBSERVED_PRICES');
    out.push(`${from}: an observed price of ${name} counts as its price; below the threshold it runs without asking`);
  }
  return out;
}

/** The line as printed: loud, and never subject to the log level. */
export function loudLine(sentence: string): string {
  return `mediagen-mcp: CONSENT LOOSENED: ${sentence}\n`;
}
