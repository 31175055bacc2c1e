/**
 * Serving over Streamable HTTP: the tokens file, one App per principal over one shared Store, the HTTP
 * transport, and a graceful stop on SIGTERM/SIGINT (stop accepting, drain, close sessions and the store).
 */
import { buildApp, type App, type AppOptions } from './app.js';
import type { AuthGrant, TokenVerifier } from './auth/types.js';
import { createVerifier } from './auth/verify.js';
import { checkAuthConfig } from './config-auth-check.js';
import { freeTools, oauthPrincipals, toolsFor } from './hosting-oauth.js';
import { createWorker } from './app-worker.js';
import { bounded, CLOSE_MS } from './shutdown.js';
import type { Config } from './config.js';
import { StartupError } from './errors.js';
import { AcceptedJournal } from './jobs/journal.js';
import type { Logger } from './log.js';
import { authenticator, LOCAL_PRINCIPAL, principalConfig, readTokensFile, type Principal } from './principals.js';
import { VERSION } from './server.js';
import { startMaintenance } from './store/maintenance.js';
import { checkOutputStore } from './outputs/open.js';
import { openStore } from './store/open.js';
import { Metrics } from './metrics/metrics.js';
import { serveMetrics, type MetricsServer } from './metrics/serve.js';
import { timedStore } from './metrics/timed-store.js';
import { RateLimits } from './providers/rate-limit.js';
import { noProviderNote } from './tools/no-provider.js';
import { configuredProviders, providerNeeds } from './tools/registry.js';
import { RefusedTasks } from './tools/refused-tasks.js';
import { isLoopback } from './transports/http-guard.js';
import { serveHttp, type HttpHandle } from './transports/http.js';
import { hookRoute, webhookSecretWarnings } from './transports/hooks.js';
import { loadCatalogues, SHIPPED_CATALOGUES } from './catalogue/load.js';

export interface Hosted {
  handle: HttpHandle;
  /** Stop as on SIGTERM: drain up to --drain-seconds, then close apps and the store. */
  stop: () => Promise<void>;
  /** --metrics-port: where GET /metrics is served. */
  metricsUrl?: string;
}

export interface HostingOptions extends AppOptions {
  /** --auth oauth: the access token verifier (default: createVerifier over the configured issuer). */
  verifier?: TokenVerifier;
}

export async function startHosting(config: Config, logger: Logger, opts: HostingOptions = {}): Promise<Hosted> {
  checkAuthConfig(config);
  const tokens = config.tokensFile ? readTokensFile(config.tokensFile, config.env) : undefined;
  const hasTokens = (tokens?.principals ?? []).some((p) => p.tokenSha256.length > 0);
  // OAuth: a wrong issuer (or its metadata and keys out of reach) fails the start, not a request.
  const verifier = config.auth === 'oauth' ? (opts.verifier ?? createVerifier(config, logger)) : undefined;
  if (verifier) await verifier.ready();
  const oauth = verifier ? oauthPrincipals(config, verifier) : undefined;
  if (oauth && !config.oauthPolicy)
    logger.warn(
      'oauth: no --oauth-policy: every subject the issuer vouches for spends this server\'s credits with its provider keys; a policy file with "defaults": { "refuse": true } admits only the subjects and groups it names',
    );
  if (!isLoopback(config.host) && !hasTokens && !oauth)
    throw new StartupError(
      `refusing to serve HTTP on non-loopback address ${config.host} without bearer tokens (add one with: mediagen-mcp token add NAME --tokens-file FILE)`,
    );
  checkOutputStore(config); // apps are built on the first request of each principal: refuse now, not then
  // /metrics: on this server behind MEDIAGEN_METRICS_TOKEN, and/or on a loopback port of its own.
  const metrics =
    opts.metrics ?? (config.metricsToken !== undefined || config.metricsPort !== undefined ? new Metrics() : undefined);
  const store = timedStore(
    opts.store ??
      (await openStore({
        stateDir: config.stateDir,
        databaseUrl: config.databaseUrl,
        logger,
        startSeconds: config.storeStartSeconds,
      })),
    metrics,
  );
  const stopMaintenance = startMaintenance(store, { retentionMs: config.retentionHours * 3_600_000, logger });
  const stopReplay = AcceptedJournal.in(config.stateDir, logger).start(store, Date.now);
  const settings = new Map<string, Principal>((tokens?.principals ?? []).map((p) => [p.id, p]));
  // Apps by principal and settings: an OAuth principal's app is built on first sight with its policy
  // entry (and again if the entry its token resolves to changes).
  const apps = new Map<string, App>();
  // OAuth: the app the worker polls a principal's jobs through, once a config is known to be theirs.
  const polledApps = new Map<string, App>();
  // Refused tasks of all principals count against one overall cap.
  // Rate limits: one queue per provider key for all principals (foreground first across them).
  // media_upload over HTTP signs a PUT for the client: a server never reads a client's file path.
  const appOpts: AppOptions = {
    ...opts,
    refusals: opts.refusals ?? new RefusedTasks(),
    rateLimits: opts.rateLimits ?? new RateLimits({ store, logger }),
    uploads: 'presign',
    metrics,
  };
  const auth = tokens && hasTokens ? authenticator(tokens) : undefined;
  // One background worker for every principal's jobs, each polled through its own principal's app. OAuth
  // principals join the lists (which the worker reads as they are) when first seen: until then their jobs
  // are left for when they call.
  const polled = oauth ? [] : [...settings.keys(), ...(auth ? [] : [LOCAL_PRINCIPAL])];
  const configs = polled.map((p) => principalConfig(config, settings.get(p)));
  // Sandbox mode serves every provider; otherwise the ones some principal has a key for (with --byok
  // every one: their jobs' outputs are kept here; the open ones are polled only by a request with a key).
  const providers = config.sandbox || config.byok ? undefined : configuredProviders(configs);
  const worker = createWorker(
    config,
    logger,
    store,
    (job) =>
      oauth ? polledApps.get(job.principal) : polled.includes(job.principal) ? appFor(job.principal) : undefined,
    providers,
    polled,
  );
  if (worker) metrics?.pollsFor(() => worker.pollFilter());
  const appFor = (principal: string, grant?: AuthGrant): App => {
    const entry = grant && oauth ? oauth.settingsOf(grant) : { key: 'tokens', principal: settings.get(principal) };
    // The guard refused these already; a grant whose entry changed since is refused here too.
    if ('refused' in entry) throw new Error(`principal refused: ${entry.refused}`);
    const key = `${entry.key}\u0000${principal}`;
    let app = apps.get(key);
    if (!app) {
      const cfg = principalConfig(config, entry.principal);
      app = buildApp(cfg, logger, appOpts, store, false);
      app.worker = worker;
      apps.set(key, app);
      if (oauth && !polled.includes(principal)) {
        polled.push(principal);
        configs.push(cfg);
        if (providers) providers.splice(0, providers.length, ...configuredProviders(configs));
      }
    }
    if (oauth) polledApps.set(principal, app);
    return app;
  };
  if (!auth && !oauth) appFor(LOCAL_PRINCIPAL); // fail at start, not on the first request, if the catalogues are bad
  const catalogues =
    auth || oauth
      ? loadCatalogues([...SHIPPED_CATALOGUES, ...config.catalogues])
      : appFor(LOCAL_PRINCIPAL).registry.catalogues;
  const handle = await serveHttp({
    host: config.host,
    port: config.port,
    stateless: config.stateless,
    allowedOrigins: config.allowedOrigins,
    allowedHosts: config.allowedHosts,
    maxBody: config.maxBody,
    rate: config.httpRate,
    authFailRate: config.httpAuthFailRate,
    maxBatch: config.httpMaxBatch,
    sessionIdleMs: config.sessionIdleSeconds * 1000,
    maxSessions: config.httpMaxSessions,
    maxSessionsPerPrincipal: config.httpMaxSessionsPerPrincipal,
    requestTimeoutMs: config.httpRequestTimeout * 1000,
    maxConnections: config.httpMaxConnections,
    maxConnectionsPerAddress: config.httpMaxConnectionsPerAddress,
    authenticate: auth ? (token) => auth(token)?.id : undefined,
    oauth: oauth?.guard,
    bindingOf: oauth
      ? (grant) => {
          const entry = oauth.settingsOf(grant);
          return `${'key' in entry ? entry.key : 'refused'}\u0000${[...grant.scopes]
            .filter((x) => x.startsWith('mediagen:'))
            .sort()
            .join(' ')}`;
        }
      : undefined,
    needsGenerate: (principal, grant, tool) => !freeTools(appFor(principal, grant)).has(tool),
    serverFor: (principal, sessionKey, grant) => {
      const app = appFor(principal, grant);
      return app.createMcpServer(sessionKey, principal, grant ? toolsFor(app, grant.scopes) : undefined);
    },
    ready: () => store.listJobs({ limit: 1, principal: LOCAL_PRINCIPAL }).then(() => true),
    byok: config.byok ? catalogues.map((c) => c.provider.toLowerCase()) : undefined,
    hooks: hookRoute({ store, logger, wake: worker ? () => worker.wake() : undefined }),
    metrics,
    metricsToken: config.metricsToken,
    logger,
  });
  let scrape: MetricsServer | undefined;
  if (metrics && config.metricsPort !== undefined) {
    try {
      scrape = await serveMetrics(metrics, config.metricsHost, config.metricsPort);
    } catch (err) {
      await handle.close(0);
      throw err;
    }
    logger.info(`metrics on ${scrape.url}`);
  }
  for (const w of webhookSecretWarnings(catalogues, config.env, config.publicUrl)) logger.warn(w);
  worker?.start();
  logger.info(`serving MCP over Streamable HTTP on ${handle.url}`, {
    version: VERSION,
    mode: config.stateless ? 'stateless' : 'stateful',
    principals: oauth
      ? `OAuth (${config.oauthIssuer}, resource ${oauth.resource.resource})`
      : auth
        ? settings.size
        : 'local only (no tokens file)',
    store: store.kind,
    webhooks: config.publicUrl ? `${config.publicUrl}/hooks/<capability>` : 'not sent (no --public-url)',
  });
  // No principal has a provider key (and no --sandbox, --byok or OAuth): only the free tools are served.
  const none =
    providers?.length === 0 && !oauth
      ? noProviderNote({ catalogues: [], unconfigured: [], needs: providerNeeds(config) })
      : undefined;
  if (none) logger.warn(none);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // The worker stops first (its leases go back while the store is open), beside the drain.
      const workerStopped = worker?.stop();
      await Promise.all([handle.close(config.drainSeconds * 1000), scrape?.close()]);
      await workerStopped;
      stopMaintenance();
      stopReplay();
      // Every principal's app at once: each shutdown is bounded, so the sum is too.
      await Promise.all([...apps.values()].map((app) => app.shutdown()));
      if (!opts.store && (await bounded(store.close(), CLOSE_MS)) !== undefined)
        logger.warn(`shutdown: the store did not close within ${CLOSE_MS} ms; stopping anyway`);
    })());
  return { handle, stop, metricsUrl: scrape?.url };
}
