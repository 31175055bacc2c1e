/**
 * Assemble the tool set from configuration: load catalogues, build tools, resolve each provider's base
 * URL and key, create one HTTP client per provider, apply the filters.
 */
import type { Config } from '../config.js';
import { loadCatalogueSet, namesOf, SHIPPED_CATALOGUES, type LoadedCatalogue } from '../catalogue/load.js';
import { applyPriceOverlay } from '../catalogue/prices.js';
import { secretsOf, type Logger } from '../log.js';
import { DEFAULT_HTTP, ProviderClient, type ProviderSettings } from '../providers/client.js';
import { headerValues } from '../providers/extra-headers.js';
import type { RateLimits } from '../providers/rate-limit.js';
import { buildTools, type ConsentHint, type ToolSpec } from './build.js';
import { filterTools, type ToolFilter } from './filter.js';

export interface Registry {
  catalogues: LoadedCatalogue[];
  /** Every tool the catalogues define, before filtering. */
  all: ToolSpec[];
  /** The tools this server offers. */
  tools: ToolSpec[];
  byName: ReadonlyMap<string, ToolSpec>;
  clients: ReadonlyMap<string, ProviderClient>;
  /** Providers left out for want of a key. */
  unconfigured: string[];
  /** What each left-out provider needs set: its key variable, and its base URL variable where required. */
  needs: { provider: string; env: string[] }[];
  close(force?: boolean): Promise<void>;
}

export interface RegistryOptions {
  /** Sandbox mode: every provider points here with this key. */
  override?: (cat: LoadedCatalogue) => ProviderSettings;
  consentHint?: ConsentHint;
  /** Names of server-level tools (allowed in include/exclude lists). */
  serverToolNames?: readonly string[];
  /** Providers whose consent prompt is off: their tools do not list confirm_token. */
  promptOff?: readonly string[];
  /** Keep tools of providers with no key (for --list). */
  keepUnconfigured?: boolean;
  /**
   * Where the providers' rate limits are counted (the store, shared by every process using one key; one
   * set per process, so every principal's clients queue together). Unset: each client counts its own.
   */
  rateLimits?: RateLimits;
}

/** A value of the environment or of a settings record, never one found on Object.prototype. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Why a provider cannot be served with this environment (no key, or a required base URL unset). */
function missingSetting(
  env: Config['env'],
  authEnv: string | undefined,
  requiredBaseEnv: string | undefined,
): string | undefined {
  if (authEnv !== undefined && !own(env, authEnv)?.trim()) return `no API key (${authEnv})`;
  if (requiredBaseEnv && !own(env, requiredBaseEnv)?.trim())
    return `${requiredBaseEnv} is not set (required: its documents publish no host to default to)`;
  return undefined;
}

export function providerSettings(config: Config, cat: LoadedCatalogue): ProviderSettings {
  const set = own(config.env, cat.baseUrl.env)?.trim();
  // A required base URL never falls back to the documented shape: the key would go to a guessed host.
  const base = set || (cat.baseUrl.required ? '' : cat.baseUrl.default);
  const key = own(config.env, cat.auth.env)?.trim() || undefined;
  return { baseUrl: base, key };
}

/**
 * The providers that any of `configs` (one per principal, over the same catalogues) has the settings for:
 * a key, and a base URL where one is required. Only the catalogues' heads are read.
 */
export function configuredProviders(configs: readonly Config[]): string[] {
  const out = new Set<string>();
  if (configs.length === 0) return [];
  loadCatalogueSet([...SHIPPED_CATALOGUES, ...configs[0].catalogues], (h) => {
    if (h.provider && configs.some((c) => !missingSetting(c.env, h.authEnv, h.requiredBaseEnv))) out.add(h.provider);
    return false;
  });
  return [...out];
}

/** What the providers of `config`'s catalogues that lack a setting need set (only the heads are read). */
export function providerNeeds(config: Config): Registry['needs'] {
  const out: Registry['needs'] = [];
  loadCatalogueSet([...SHIPPED_CATALOGUES, ...config.catalogues], (h) => {
    if (h.provider && missingSetting(config.env, h.authEnv, h.requiredBaseEnv))
      out.push({ provider: h.provider, env: [h.authEnv, h.requiredBaseEnv].filter((e) => e !== undefined) });
    return false;
  });
  return out;
}

export function filterOf(config: Config): ToolFilter {
  return {
    tools: config.tools,
    excludeTools: config.excludeTools,
    toolsets: config.toolsets,
    readOnly: config.readOnly,
  };
}

export function buildRegistry(config: Config, logger: Logger, opts: RegistryOptions = {}): Registry {
  // Providers without a key are read but not validated or built (unless every provider is wanted).
  const served = opts.override || opts.keepUnconfigured ? undefined : config.env;
  // With --byok (HTTP only) a provider the server has no key for is served too: a caller sends its own.
  const byok = config.byok && config.transport === 'http';
  const { catalogues: loaded, skipped } = loadCatalogueSet(
    [...SHIPPED_CATALOGUES, ...config.catalogues],
    served && ((h) => !missingSetting(served, byok ? undefined : h.authEnv, h.requiredBaseEnv)),
  );
  // Names of the left-out providers' tools, read only when a filter or a price overlay may name them.
  const named = config.prices || config.tools.length || config.excludeTools.length || config.toolsets.length;
  const skippedNames = named ? skipped.map(namesOf) : [];
  const catalogues = config.prices
    ? applyPriceOverlay(loaded, config.prices, new Set(skippedNames.flatMap((n) => n.names)))
    : loaded;
  const all = buildTools(catalogues, opts.consentHint, opts.promptOff);
  const filtered = filterTools(
    all,
    filterOf(config),
    [...(opts.serverToolNames ?? []), ...skippedNames.flatMap((n) => n.names)],
    skippedNames.flatMap((n) => n.toolsets),
  );
  const clients = new Map<string, ProviderClient>();
  const unconfigured: string[] = [];
  const needs: Registry['needs'] = [];
  // Header variables (per-engine keys) come from the environment in every mode, sandbox included.
  const allSettings = catalogues.map((cat) => ({
    ...(opts.override?.(cat) ?? providerSettings(config, cat)),
    headerValues: headerValues(cat, config.env),
  }));
  const secrets = [
    ...secretsOf(config.env),
    ...allSettings.flatMap((s) => [...(s.key ? [s.key] : []), ...Object.values(s.headerValues)]),
  ];
  const why = new Map<string, string>();
  for (const [i, cat] of catalogues.entries()) {
    const settings = { ...allSettings[i], secrets };
    if ((!settings.key && !byok) || !settings.baseUrl) {
      unconfigured.push(cat.provider);
      needs.push({ provider: cat.provider, env: [cat.auth.env, ...(cat.baseUrl.required ? [cat.baseUrl.env] : [])] });
      why.set(cat.provider, settings.key ? `${cat.baseUrl.env} is not set (required)` : `no API key (${cat.auth.env})`);
    }
    const limit = own(config.rateLimit, cat.provider);
    const effective = limit === 'off' ? { ...cat, rateLimit: undefined } : limit ? { ...cat, rateLimit: limit } : cat;
    const limiter = effective.rateLimit && opts.rateLimits?.for(cat.provider, settings.key, effective.rateLimit);
    const http = { ...DEFAULT_HTTP, timeoutMs: config.httpTimeoutMs };
    const rate = effective.rateLimit;
    const ownLimiter =
      rate && opts.rateLimits ? (key: string) => opts.rateLimits?.for(cat.provider, key, rate) : undefined;
    clients.set(cat.provider, new ProviderClient(effective, settings, http, logger, limiter || undefined, ownLimiter));
  }
  const tools = filtered.filter((t) => opts.keepUnconfigured || !unconfigured.includes(t.catalogue.provider));
  for (const p of unconfigured) {
    if (!opts.keepUnconfigured) logger.info(`${p}: ${why.get(p) ?? 'not configured'}; its tools are left out`);
  }
  for (const h of skipped) {
    unconfigured.push(h.provider ?? h.file);
    needs.push({ provider: h.provider ?? h.file, env: [h.authEnv, h.requiredBaseEnv].filter((e) => e !== undefined) });
    const reason = missingSetting(config.env, h.authEnv, h.requiredBaseEnv) ?? 'not configured';
    logger.info(`${h.provider ?? h.file}: ${reason}; its tools are left out`);
  }
  return {
    catalogues,
    all,
    tools,
    byName: new Map(tools.map((t) => [t.name, t])),
    clients,
    unconfigured,
    needs,
    close: async (force = false) => {
      await Promise.all([...clients.values()].map((c) => c.close(force)));
    },
  };
}
