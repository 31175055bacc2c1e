/**
 * Settings that loosen consent, named for the tool a command is about to price or run. The command line
 * prints each on stderr itself, whatever `--log-level` says: a call that would ask the person must never
 * run unasked without a word. Every way config can weaken consent is here:
 *   --consent-off / MEDIAGEN_CONSENT_OFF            no prompt for the provider at all
 *   --confirm-above / MEDIAGEN_CONFIRM_ABOVE        a threshold above the catalogue's
 *   --prices / MEDIAGEN_PRICES                      a price other than the catalogue's in any way (a row, a rate),
 *                                                   or one it does not know
 *   --trust-observed-prices / ..._OBSERVED_PRICES   an observed price standing in for an unknown one
 *   --catalogue / MEDIAGEN_CATALOGUES               a catalogue of one's own spending a shipped provider's key
 *                                                   under looser rules (it cannot replace that provider)
 * A lower threshold, an overlay entry identical to the catalogue or `--confirm all` print nothing.
 */
import type { PriceExpr } from '../catalogue/format.js';
import { loadCatalogues, SHIPPED_CATALOGUES, type LoadedCatalogue } from '../catalogue/load.js';
import { loadPriceOverlay } from '../catalogue/prices.js';
import type { Config } from '../config.js';
import { amountText, describePrice } from '../guard/price.js';
import { alwaysConfirmMatch, DEFAULT_ALWAYS_CONFIRM } from '../guard/policy.js';
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

/** A catalogue of one's own that uses a shipped provider's key with a higher threshold or fewer always-asks. */
function borrowedKey(tool: ToolSpec, loaded: readonly LoadedCatalogue[]): string | undefined {
  const cat = tool.catalogue;
  if (SHIPPED_CATALOGUES.includes(cat.file)) return undefined;
  const shipped = loaded.find((c) => SHIPPED_CATALOGUES.includes(c.file) && c.auth.env === cat.auth.env);
  if (!shipped) return undefined;
  const patterns = shipped.consent.alwaysConfirm.length ? shipped.consent.alwaysConfirm : DEFAULT_ALWAYS_CONFIRM;
  const asked = (p: string): boolean =>
    alwaysConfirmMatch({ ...tool.op, id: p, title: p, tags: [] }, cat) !== undefined;
  const fewer = patterns.filter((p) => !asked(p));
  if (cat.consent.confirmAbove <= shipped.consent.confirmAbove && !fewer.length) return undefined;
  return (
    `${cat.file} spends with ${cat.auth.env}, the key of ${shipped.provider}, under its own rules ` +
    `(asked from ${amountText(cat.consent.confirmAbove, cat.currency)}` +
    `${fewer.length ? `; ${fewer.join(', ')} not always asked` : ''})`
  );
}

/**
 * One sentence per setting that loosens consent for this tool (none for a free tool). `loaded`: every
 * catalogue in use, to tell a catalogue of one's own that borrows a shipped provider's key.
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
  if (config.consentOff.includes(provider)) {
    const from = source(configArgv, 'consent-off', 'MEDIAGEN_CONSENT_OFF');
    return [`${from} ${provider}: ${name} runs without asking you, whatever its price (caps still apply)`];
  }
  // Every paid call is asked about: thresholds, prices and observations no longer decide.
  if (config.confirm === 'all') return [];
  const out: string[] = [];
  const borrowed = borrowedKey(tool, loaded);
  if (borrowed) out.push(`${source(configArgv, 'catalogue', 'MEDIAGEN_CATALOGUES')} ${borrowed}`);
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
