/**
 * Composition root: config -> registry, store, guard, job ledger, handler and server-level tools.
 * Used by the CLI and by tests; nothing here touches stdio or process state.
 */
import { appOutputs } from './app-outputs.js';
import { SERVER_TOOL_NAMES } from './catalogue/names.js';
import type { Config } from './config.js';
import { keepsOutputs } from './config-media.js';
import { Budget } from './guard/budget.js';
import { ConsentGate } from './guard/consent.js';
import { PriceSampler } from './guard/observed.js';
import { consentNote, type ConsentSettings } from './guard/policy.js';
import { Downloader } from './jobs/downloader.js';
import { AcceptedJournal } from './jobs/journal.js';
import { JobLedger, type JobTool } from './jobs/ledger.js';
import { originKey } from './jobs/origin.js';
import type { Worker } from './jobs/worker.js';
import { pollOverride } from './app-worker.js';
import type { Logger } from './log.js';
import { getPath } from './providers/envelope.js';
import { RateLimits, sleep as realSleep } from './providers/rate-limit.js';
import { createServer, type MediagenServer } from './server.js';
import { startMaintenance } from './store/maintenance.js';
import { openStore } from './store/open.js';
import type { Metrics } from './metrics/metrics.js';
import { timedStore } from './metrics/timed-store.js';
import type { JobRecord, Store } from './store/store.js';
import { accountTools } from './tools/account-tools.js';
import { approveTool } from './tools/approve-tool.js';
import type { ToolSpec } from './tools/build.js';
import { cachedBalance } from './tools/balance.js';
import { keepServerTool, type ToolFilter } from './tools/filter.js';
import { ToolHandler, type ServerTool } from './tools/handler.js';
import { PaidInflight } from './tools/paid-outcome.js';
import { settleInflight } from './tools/paid-inflight.js';
import { jobsTools } from './tools/jobs-tools.js';
import { withPreviews } from './previews/budget.js';
import { thumbnailTool } from './tools/thumbnail-tool.js';
import { JobTasks } from './tools/job-tasks.js';
import type { RefusedTasks } from './tools/refused-tasks.js';
import { trackTool } from './tools/track-tool.js';
import { modelsTool } from './tools/models-tool.js';
import { noProviderNote } from './tools/no-provider.js';
import { buildRegistry, filterOf, providerSettings, type Registry, type RegistryOptions } from './tools/registry.js';
import { bounded, CLOSE_MS, LATE, SETTLE_MS } from './shutdown.js';
import { APPROVE_TOOL } from './views/uris.js';
import { viewDomains } from './views/csp.js';
import { viewResources } from './views/resources.js';

// One list (catalogue/names.ts): catalogues may not use these names or their prefixes.
export { SERVER_TOOL_NAMES };
const READ_ONLY_SERVER_TOOLS = new Set([
  'quote',
  'models',
  'spend_report',
  'jobs_get',
  'jobs_wait',
  'jobs_list',
  'media_thumbnail',
]);
/** The time a job's result waits for its previews, at most (the rest is made in the background and cached). */
const PREVIEW_MS = 20_000;

export interface AppOptions extends RegistryOptions {
  store?: Store;
  /** Stops the store's start-up retry (a command line told to stop while it waits). */
  startSignal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Refused task-augmented calls, shared by every principal's app of a process (one overall cap). */
  refusals?: RefusedTasks;
  /**
   * How media_upload takes its file: `path`, a file in --input-dir read by the server (stdio, the
   * default), or `presign`, a presigned PUT for the client (HTTP: a server reads no client paths).
   */
  uploads?: 'path' | 'presign';
  /** The process's metrics (/metrics): tool calls, paid requests, store latency. */
  metrics?: Metrics;
}

export interface App {
  registry: Registry;
  store: Store;
  ledger: JobLedger;
  serverTools: ServerTool[];
  /**
   * Keep a succeeded job's outputs in the output store (the worker calls it for due succeeded jobs):
   * idempotent; per-output refusals are recorded on the job; throws only for transient trouble, so the
   * caller tries again later. Undefined when outputs are not kept (keepsOutputs(config) is false).
   */
  keepOutputs?: (job: JobRecord, signal: AbortSignal) => Promise<JobRecord>;
  /**
   * The background worker polling this app's jobs, set by `serve` (stdio: one per app; HTTP: one for all
   * principals' apps); undefined with --no-worker and in one-shot commands. Webhook hints call wake().
   */
  worker?: Worker;
  /**
   * A server for one principal (`local` on stdio); `defaultCallerId` is the session key without an MCP
   * session; `only`: list and run no tool but these (`mediagen-mcp ui`); `fixedCaller`: every call is
   * `defaultCallerId`'s, whatever the transport's session (`mediagen-mcp ui`).
   */
  createMcpServer(
    defaultCallerId?: string,
    principal?: string,
    only?: ReadonlySet<string>,
    fixedCaller?: boolean,
  ): MediagenServer;
  /** Close clients and the store; `force` aborts provider requests still in flight. */
  close(force?: boolean): Promise<void>;
  /**
   * Stop after the drain: paid requests still unanswered are left uncertain (never silently lost) and
   * named in the log, then everything is closed, aborting what is still in flight.
   */
  shutdown(): Promise<void>;
}

export function consentSettings(config: Config): ConsentSettings {
  return {
    confirmAll: config.confirm === 'all',
    confirmAbove: config.confirmAbove,
    promptOff: config.consentOff,
    trustObserved: config.trustObservedPrices,
  };
}

/** Sandbox mode: the `host:port` its provider base URLs point at (where its result URLs point too). */
function sandboxOrigins(config: Config, registry: Registry, opts: AppOptions): string[] {
  const override = config.sandbox ? opts.override : undefined;
  if (!override) return [];
  return registry.catalogues.map((c) => {
    const u = new URL(override(c).baseUrl);
    return originKey(u.hostname, u.port, u.protocol);
  });
}

/** Opens the configured store (SQLite, or PostgreSQL with DATABASE_URL), then builds the app over it. */
export async function createApp(config: Config, logger: Logger, opts: AppOptions = {}): Promise<App> {
  if (opts.store) return buildApp(config, logger, opts, opts.store, false);
  const opened = await openStore({
    stateDir: config.stateDir,
    databaseUrl: config.databaseUrl,
    logger,
    startSeconds: config.storeStartSeconds,
    signal: opts.startSignal,
  });
  const store = timedStore(opened, opts.metrics);
  try {
    return buildApp(config, logger, opts, store, true);
  } catch (err) {
    await store.close(); // a bad catalogue or setting must not leave a pool or file handle open
    throw err;
  }
}

/** The app over a store it was given (`owned`: close the store with the app). */
export function buildApp(config: Config, logger: Logger, opts: AppOptions, store: Store, owned: boolean): App {
  const now = opts.now ?? Date.now;
  const settings = consentSettings(config);
  const registry = buildRegistry(config, logger, {
    ...opts,
    rateLimits: opts.rateLimits ?? new RateLimits({ store, logger }),
    consentHint: (op, cat) => consentNote(op, cat, settings),
    promptOff: settings.promptOff,
    serverToolNames: SERVER_TOOL_NAMES,
  });
  for (const p of settings.promptOff)
    logger.warn(`CONSENT PROMPT OFF for ${p}: paid calls run without asking the user (caps still apply)`);
  if (settings.trustObserved)
    logger.warn(
      'OBSERVED PRICES TRUSTED: an unknown-price call with 3 or more consistent observations is asked about only when the highest of them is at or above the consent threshold',
    );
  const budget = new Budget(
    store,
    { session: config.capSession, day: config.capDay },
    now,
    config.httpTimeoutMs + 2_000,
    config.unknownPriceReserve,
  );
  const allTools = new Map<string, JobTool>(
    registry.all.map((t) => [t.name, { name: t.name, provider: t.catalogue.provider, op: t.op }]),
  );
  const stopMaintenance = owned
    ? startMaintenance(store, { retentionMs: config.retentionHours * 3_600_000, now, logger })
    : () => undefined;
  // Accepted calls the store could not take: replayed at start and on a timer by whoever owns the store.
  const journal = AcceptedJournal.in(config.stateDir, logger);
  const stopReplay = owned ? journal.start(store, now) : () => undefined;
  // `noWait`: skipped (RATE_LIMITED, nothing sent) when the rate limit has no start free right now.
  const readBalance = async (provider: string, signal?: AbortSignal, noWait = false): Promise<unknown> => {
    const cat = registry.catalogues.find((c) => c.provider === provider);
    const client = registry.clients.get(provider);
    const op = cat?.balance && cat.operations.find((o) => o.id === cat.balance?.operation);
    // A request with its own key (--byok) reads no balance: not another account's into a cache shared by the
    // principal's requests, nor its own into the observed prices (measured across the server's account).
    if (!cat?.balance || !op || !client?.configured || client.requestKey !== undefined) return undefined;
    const { data } = await client.call(op, {}, { safe: true, signal, noWait });
    return getPath(data, cat.balance.field);
  };
  // Observed prices read the balance fresh, waiting for the rate limit like any foreground call.
  const balanceValue = (provider: string, signal?: AbortSignal): Promise<unknown> => readBalance(provider, signal);
  // What quotes and consent forms show: briefly cached, one read for concurrent callers, never waited for.
  const cached = cachedBalance(
    async (provider, signal) => {
      const v = await readBalance(provider, signal, true);
      const cat = registry.catalogues.find((c) => c.provider === provider);
      return v === undefined || !cat ? undefined : `${String(v)} ${cat.currency}`;
    },
    { now },
  );
  // A request with its own key (--byok) neither reads the cache (the server's account) nor writes it.
  const balance = (provider: string, signal?: AbortSignal): Promise<string | undefined> =>
    registry.clients.get(provider)?.requestKey !== undefined ? Promise.resolve(undefined) : cached(provider, signal);
  // One sampler per app (per principal over HTTP): overlap is judged from the shared store, and the
  // sampler parses the balance strictly itself.
  const sampler = new PriceSampler({ store, logger, now, balance: balanceValue });
  const intervalMs = pollOverride(config);
  const ledger = new JobLedger({
    store,
    clients: registry.clients,
    tools: allTools,
    logger,
    now,
    keepsOutputs: keepsOutputs(config),
    intervalMs,
    onCreated: () => app.worker?.wake(),
    onFailed: (job) => budget.refund(job.id),
    onFinal: (job) => sampler.finish(job.id, job.provider, job.status === 'succeeded'),
  });
  const sleep = opts.sleep ?? realSleep;
  const consent = new ConsentGate(store, config.consent, config.tokenTtlSeconds * 1000, now);
  const inflight = new PaidInflight();
  // Where downloads may connect, and which non-public hosts URL arguments may name: the same allows.
  const urlPolicy = {
    allowHosts: new Set(config.downloadAllow),
    // Sandbox mode: the sandbox's own address (host:port), where its result URLs point.
    allowOrigins: new Set(sandboxOrigins(config, registry, opts)),
  };
  const outputs = appOutputs(config, { store, now, logger, policy: urlPolicy, uploads: opts.uploads ?? 'path' });
  const links = outputs.links;
  const handler = new ToolHandler({
    urlPolicy,
    inflight,
    sleep,
    clients: registry.clients,
    store,
    ledger,
    budget,
    consent,
    consentSettings: settings,
    logger,
    now,
    balance,
    sampler,
    journal,
    links,
    // Webhooks point back at this server, so they are sent only when it serves HTTP at a public URL.
    publicUrl: config.transport === 'http' ? config.publicUrl : undefined,
    metrics: opts.metrics,
  });
  const downloader = new Downloader(
    {
      dir: config.outputDir,
      maxBytes: config.downloadMaxMb * 1024 * 1024,
      maxOutputs: config.downloadMaxOutputs,
      policy: urlPolicy,
    },
    { store, now },
  );
  const swept = downloader.sweepStaleParts();
  if (swept) logger.info(`removed ${swept} stale partial download(s) from the output folder`);
  const filter: ToolFilter = filterOf(config);
  const jobTools = jobsTools({
    ledger,
    store,
    now,
    sleep,
    waitBudgetMs: config.waitSeconds * 1000,
    maxWaitMs: 55_000,
    intervalMs,
    downloader,
    downloadByDefault: config.download,
    keep: outputs.keepWhileReading,
    links,
    previews:
      config.previews === 'thumbnail'
        ? async (job, result, leftMs) =>
            withPreviews(result, await outputs.previewer.forJob(job, Math.min(PREVIEW_MS, leftMs)))
        : undefined,
  });
  const tasks = new JobTasks({
    ledger,
    jobTools: new Map(jobTools.map((t) => [t.name, t])),
    pollMs: intervalMs,
    now,
    refused: opts.refusals,
  });
  const builtServerTools = [
    ...accountTools({
      tools: new Map(registry.all.map((t) => [t.name, t])),
      noProvider: noProviderNote(registry),
      store,
      budget,
      consentSettings: settings,
      tokenOnly: config.stateless,
      consentMode: config.consent,
      now,
      balance,
      worker: () => app.worker?.stats(),
    }),
    modelsTool(registry.tools, store, now, noProviderNote(registry)),
    ...jobTools,
    trackTool({ ledger, store, budget, tools: allTools, now }),
    ...outputs.tools,
    approveTool({ consent, handler, tools: byName(registry.tools) }),
    thumbnailTool({ ledger, previewer: outputs.previewer, off: config.previews !== 'thumbnail', budgetMs: PREVIEW_MS }),
  ];
  const unreserved = builtServerTools.filter((t) => !SERVER_TOOL_NAMES.includes(t.name)).map((t) => t.name);
  if (unreserved.length)
    throw new Error(`server tool(s) ${unreserved.join(', ')} missing from SERVER_TOOL_NAMES (catalogue/names.ts)`);
  // The approval view's buttons go wherever paid tools do (a --tools list need not name them), in the
  // consent modes that ask with a view.
  const approvals = config.consent === 'auto' || config.consent === 'app-or-form';
  const serverTools = builtServerTools.filter((t) =>
    t.name === APPROVE_TOOL
      ? approvals && !filter.readOnly && !filter.excludeTools.includes(t.name)
      : keepServerTool(t.name, READ_ONLY_SERVER_TOOLS.has(t.name), filter),
  );
  // The views may show media from the output store and the providers' origins only (views/csp.ts).
  const views = viewResources(
    viewDomains({
      outputOrigin: outputs.origin,
      baseUrls: registry.catalogues.map((c) => (opts.override?.(c) ?? providerSettings(config, c)).baseUrl),
      extra: config.viewMediaHosts,
    }),
    undefined,
    (message) => logger.warn(message),
  );
  const close = async (force = false): Promise<void> => {
    stopMaintenance();
    stopReplay();
    await downloader.close();
    await outputs.close();
    await registry.close(force);
    if (owned) await store.close();
  };
  const app: App = {
    registry,
    store,
    ledger,
    serverTools,
    keepOutputs: outputs.keepOutputs,
    createMcpServer: (defaultCallerId, principal = 'local', only, fixedCaller) =>
      createServer({
        tools: only ? registry.tools.filter((t) => only.has(t.name)) : registry.tools,
        handler,
        // The approve tool runs only the paid tools this server serves (its own, narrower set when `only`).
        serverTools: only
          ? serverTools
              .filter((t) => only.has(t.name))
              .map((t) =>
                t.name === APPROVE_TOOL
                  ? approveTool({ consent, handler, tools: byName(registry.tools.filter((s) => only.has(s.name))) })
                  : t,
              )
          : serverTools,
        logger,
        defaultCallerId,
        ...(fixedCaller ? { callerId: defaultCallerId } : {}),
        principal,
        consentTimeoutMs: config.consentTimeoutSeconds * 1000,
        tasks,
        views,
        byok: config.byok,
        metrics: opts.metrics,
      }),
    close,
    shutdown: async () => {
      // Each step is bounded: a store that hangs (a lock held elsewhere, a pool that waits for its
      // clients) or a connection that will not die must not hold a stopping process.
      const settled = await bounded(settleInflight({ inflight, budget, store, logger, journal }), SETTLE_MS);
      if (settled === LATE || settled instanceof Error)
        logger.error(
          `shutdown: the store did not record the paid requests still unanswered (${settled === LATE ? `no answer within ${SETTLE_MS} ms` : settled.message}); their reservations stay reserved, which counts as uncertain once stale`,
          { reservations: inflight.list().map((c) => c.reservation) },
        );
      else if (settled.length)
        logger.warn(`shut down with ${settled.length} paid request(s) unanswered; left uncertain`, {
          reservations: settled,
        });
      const closed = await bounded(close(true), CLOSE_MS);
      if (closed === LATE || closed instanceof Error)
        logger.warn(
          `shutdown: closing connections and the store ${closed === LATE ? `took over ${CLOSE_MS} ms` : `failed (${closed.message})`}; stopping anyway`,
        );
    },
  };
  return app;
}

function byName(tools: readonly ToolSpec[]): ReadonlyMap<string, ToolSpec> {
  return new Map(tools.map((t) => [t.name, t]));
}
