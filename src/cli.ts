#!/usr/bin/env node
/**
 * bin entry: parse flags and env once, pick a command. Bad configuration or catalogue: one line on
 * stderr and exit code 2, before anything is served; any other failure at start (a store that cannot
 * open, a native module built for another Node): one line and exit code 1. Either way the sandbox
 * gateway is closed first and nothing is left to keep the process alive.
 */
import { loadConfig, type Config } from './config.js';
import { StartupError } from './errors.js';
import { checkAuthConfig } from './config-auth-check.js';
import { createLogger, secretsOf, type Logger } from './log.js';
import type { Sandbox } from './sandbox/index.js';
import { consentSettings, createApp, SERVER_TOOL_NAMES } from './app.js';
import { createWorker } from './app-worker.js';
import { AFTER_DRAIN_MS } from './shutdown.js';
import { exportOverlay } from './guard/observed.js';
import { consentNote } from './guard/policy.js';
import { VERSION } from './server.js';
import { openStore } from './store/open.js';
import { SqliteStore } from './store/sqlite.js';
import { defaultDriver, openDatabase } from './store/sqlite-driver.js';
import { buildRegistry, type RegistryOptions } from './tools/registry.js';
import { serveStdio } from './transports/stdio.js';
import { addToken } from './principals.js';
import { isCommandLine } from './commands/argv.js';
import { helpFor } from './commands/help.js';
import { noProviderNote } from './tools/no-provider.js';
import { Metrics } from './metrics/metrics.js';
import { serveMetrics, type MetricsServer } from './metrics/serve.js';
import { wantsJsonLog } from './config-ops.js';

/** The sandbox gateway's code is loaded only when asked for (--sandbox, the sandbox command). */
async function startSandbox(port?: number): Promise<Sandbox> {
  const { startSandbox: start } = await import('./sandbox/index.js');
  return start({ port });
}

async function sandboxOptions(config: Config, logger: Logger): Promise<{ sandbox?: Sandbox; opts: RegistryOptions }> {
  if (!config.sandbox) return { opts: {} };
  const sandbox = await startSandbox(config.sandboxPort);
  logger.info(`sandbox mode: every provider points at ${sandbox.url} with a dummy key; nothing is spent`);
  return {
    sandbox,
    opts: { override: (cat) => ({ baseUrl: sandbox.baseUrl(cat.provider, cat.baseUrl.default), key: sandbox.key }) },
  };
}

/**
 * Once a stop has begun, the process exits by the drain deadline plus the bounded close, whatever still
 * hangs (a provider that never answers, a store that does not let go): exit code 1, and a line saying so.
 */
function exitDeadline(drainMs: number, logger: Logger): void {
  const ms = drainMs + AFTER_DRAIN_MS;
  setTimeout(() => {
    logger.error(`shutdown did not finish within ${Math.round(ms / 1000)} s (drain + close); exiting now`);
    process.exit(1);
  }, ms).unref();
}

async function serveHttp(config: Config, logger: Logger): Promise<number> {
  const { sandbox, opts } = await sandboxOptions(config, logger);
  try {
    // The HTTP transport's code is loaded only for --transport http.
    const { startHosting } = await import('./hosting.js');
    const hosted = await startHosting(config, logger, opts);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string): void => {
        logger.info(`${sig}: draining for up to ${config.drainSeconds} s`);
        exitDeadline(config.drainSeconds * 1000, logger);
        void hosted.stop().then(resolve);
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
    });
  } finally {
    await sandbox?.close();
  }
  // Nothing may keep a stopped server alive.
  setTimeout(() => process.exit(), 1_000).unref();
  return 0;
}

function tokenCommand(config: Config): number {
  const [verb, principal] = config.commandArgs;
  if (verb !== 'add' || !principal || !config.tokensFile)
    throw new StartupError('usage: mediagen-mcp token add PRINCIPAL --tokens-file FILE');
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(principal))
    throw new StartupError(`invalid principal "${principal}": letters, digits, . _ @ - (1-64)`);
  process.stdout.write(addToken(config.tokensFile, principal, config.env) + '\n');
  return 0;
}

/** Serve over stdio (or HTTP); resolves with the exit code (non-zero when the transport failed). */
async function serve(config: Config, logger: Logger): Promise<number> {
  checkAuthConfig(config);
  if (config.transport === 'http') return serveHttp(config, logger);
  const { sandbox, opts } = await sandboxOptions(config, logger);
  let app: Awaited<ReturnType<typeof createApp>>;
  // --metrics-port: a desktop or worker process over stdio can be scraped too (loopback only).
  const metrics = config.metricsPort !== undefined ? new Metrics() : undefined;
  let scrape: MetricsServer | undefined;
  try {
    app = await createApp(config, logger, { ...opts, metrics });
  } catch (err) {
    await sandbox?.close();
    throw err;
  }
  if (metrics && config.metricsPort !== undefined) {
    try {
      scrape = await serveMetrics(metrics, config.metricsHost, config.metricsPort);
    } catch (err) {
      await app.close(true);
      await sandbox?.close();
      throw err;
    }
    logger.info(`metrics on ${scrape.url}`);
  }
  if (app.store instanceof SqliteStore) logger.debug(`store: SQLite via ${app.store.driver}`);
  const mcp = app.createMcpServer(`stdio:${process.pid}`);
  // The background worker polls this process's own (local) jobs of the providers it has keys for.
  const served = app.registry.catalogues.map((c) => c.provider).filter((p) => !app.registry.unconfigured.includes(p));
  const local = (job: { principal: string }) => (job.principal === 'local' ? app : undefined);
  app.worker = createWorker(config, logger, app.store, local, served, ['local']);
  const worker = app.worker;
  if (worker) metrics?.pollsFor(() => worker.pollFilter());
  const drainMs = config.drainSeconds * 1000;
  if (config.publicUrl)
    logger.warn('--public-url is used over HTTP only (--transport http): over stdio no webhooks are sent');
  logger.info(`serving ${app.registry.tools.length + app.serverTools.length} tools over stdio`, {
    version: VERSION,
    stateDir: config.stateDir,
  });
  const none = noProviderNote(app.registry);
  if (none) logger.warn(none);
  const { ended, stop } = await serveStdio(mcp, drainMs);
  app.worker?.start();
  const onSignal = (): void => {
    exitDeadline(drainMs, logger);
    stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const end = await ended;
  exitDeadline(0, logger); // stdin closed or the transport failed: the drain is over, the close is bounded
  if (end.error) logger.error(`stdio transport failed: ${end.error.message}`);
  await app.worker?.stop(); // first: its leases go back while the store is still open
  await app.shutdown();
  await scrape?.close();
  await sandbox?.close();
  // Nothing may keep a stopping server alive past its drain deadline.
  setTimeout(() => process.exit(), 1_000).unref();
  return end.reason === 'transport error' ? 1 : 0;
}

/** `export-prices`: observed prices as a `--prices` overlay on stdout. */
async function exportPricesCommand(config: Config): Promise<number> {
  const store = await openStore({ stateDir: config.stateDir, databaseUrl: config.databaseUrl });
  try {
    process.stdout.write(JSON.stringify(exportOverlay(await store.listObservations()), null, 2) + '\n');
  } finally {
    await store.close();
  }
  return 0;
}

async function runSandbox(config: Config): Promise<void> {
  const sandbox = await startSandbox(config.sandboxPort);
  process.stdout.write(`mediagen-mcp sandbox gateway on ${sandbox.url} (key: ${sandbox.key}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
}

/** `--version --verbose`: version, Node, and the SQLite driver this runtime uses (tried for real). */
function versionReport(): string {
  const driver = defaultDriver();
  let state = 'ok';
  try {
    openDatabase(':memory:', { driver }).close();
  } catch (err) {
    state = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return `mediagen-mcp ${VERSION}\nnode ${process.versions.node}\nsqlite driver: ${driver} (${state})\n`;
}

/** The conventional exit code of a process stopped by a signal: 128 + its number. */
const STOP_SIGNALS = { SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * Ctrl-C during a command: while it waits for a job, the wait stops (the job keeps running); otherwise the
 * request in flight (perhaps a paid create) is finished first, and a second Ctrl-C leaves at once.
 * SIGTERM and SIGHUP (the terminal closed) stop the command the same careful way: no question is answered
 * yes, no wait goes on, no new call is sent, a request in flight is answered and recorded within
 * --drain-seconds (left uncertain, never lost, past that); then the exit code is 143 or 129.
 */
async function runCommandLine(argv: readonly string[]): Promise<number> {
  let waiting: (() => void) | undefined;
  let pressed = 0;
  const onSigint = (): void => {
    if (waiting) return waiting();
    if (++pressed > 1) process.exit(130);
    process.stderr.write('\nCtrl-C: finishing the request in flight first; press Ctrl-C again to leave now.\n');
  };
  const stop = new AbortController();
  let stoppedBy: keyof typeof STOP_SIGNALS | undefined;
  const onStop = (sig: keyof typeof STOP_SIGNALS): void => {
    if (sig === 'SIGHUP') {
      // The terminal may be gone: a failed write must not end the process before the job is recorded.
      process.stdout.on('error', () => undefined);
      process.stderr.on('error', () => undefined);
    }
    if (stoppedBy) return;
    stoppedBy = sig;
    stop.abort(sig);
  };
  const handlers = Object.keys(STOP_SIGNALS).map((sig) => {
    const fn = (): void => onStop(sig as keyof typeof STOP_SIGNALS);
    process.on(sig, fn);
    return [sig, fn] as const;
  });
  process.on('SIGINT', onSigint);
  try {
    // The command line's code is loaded only for a command line.
    const { runCommand } = await import('./commands/run.js');
    const code = await runCommand(argv, {
      tty: { input: process.stdin, err: process.stderr },
      out: process.stdout,
      onInterrupt: (fn) => {
        waiting = fn;
        return () => (waiting = undefined);
      },
      sandboxOptions,
      stop: stop.signal,
    });
    if (!stoppedBy) return code;
    // Whatever is still open (a request abandoned at the deadline) must not keep a stopped command alive.
    setTimeout(() => process.exit(STOP_SIGNALS[stoppedBy!]), 1_000).unref();
    return STOP_SIGNALS[stoppedBy];
  } finally {
    process.off('SIGINT', onSigint);
    for (const [sig, fn] of handlers) process.off(sig, fn);
  }
}

/** With --log-format json, the logger the start-up and fatal lines below go through. */
let startLogger: Logger | undefined;

/** A start-up or fatal line: `mediagen-mcp: …` on stderr, or a JSON error line with --log-format json. */
function sayFailure(text: string): void {
  if (startLogger) startLogger.error(text);
  else process.stderr.write(`mediagen-mcp: ${text}\n`);
}

export async function main(argv: readonly string[]): Promise<number> {
  // `help [COMMAND]`, `COMMAND --help`, `--help`: before anything else parses the words.
  const help = helpFor(argv);
  if (help) {
    if (help.error) process.stderr.write(`mediagen-mcp: ${help.error}\n`);
    process.stdout.write(help.text);
    return help.code;
  }
  if (argv[0] === 'import-openapi') {
    const { importOpenapiCommand } = await import('./catalogue/openapi.js');
    return importOpenapiCommand(argv.slice(1), (s) => process.stdout.write(s));
  }
  if (isCommandLine(argv)) return runCommandLine(argv);
  // --log-format json: a failure to start is a JSON line too (redacted), even one of the configuration.
  startLogger = wantsJsonLog(argv, process.env)
    ? createLogger('info', secretsOf(process.env), undefined, 'json')
    : undefined;
  const { version, verbose, config } = loadConfig(argv);
  if (version) {
    process.stdout.write(verbose ? versionReport() : VERSION + '\n');
    return 0;
  }
  const logger = createLogger(config.logLevel, secretsOf(config.env), undefined, config.logFormat);
  startLogger = config.logFormat === 'json' ? logger : undefined;
  if (config.command === 'list') {
    const settings = consentSettings(config);
    const registry = buildRegistry(config, logger, {
      keepUnconfigured: true,
      consentHint: (op, cat) => consentNote(op, cat, settings),
      serverToolNames: SERVER_TOOL_NAMES,
    });
    // The list's code is loaded only for the list.
    const [{ listText }, { paintFor }] = await Promise.all([
      import('./commands/list.js'),
      import('./commands/colour.js'),
    ]);
    const served = SERVER_TOOL_NAMES.filter((n) => n !== 'mediagen_approve');
    process.stdout.write(listText(registry, config.sandbox, served, paintFor(process.stdout)));
    await registry.close();
    return 0;
  }
  if (config.command === 'token') return tokenCommand(config);
  if (config.command === 'export-prices') return exportPricesCommand(config);
  if (config.command === 'ui') {
    // The local page's code is loaded only for the ui command.
    const { runUi } = await import('./commands/ui.js');
    return runUi(config, logger);
  }
  if (config.command === 'sandbox') {
    await runSandbox(config);
    return 0;
  }
  return serve(config, logger);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof StartupError) {
      sayFailure(err.message);
      process.exitCode = 2;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    sayFailure(`fatal: ${message.replace(/\s*\n\s*/g, ' ')}`);
    process.exitCode = 1;
    // A start-up failure must never hang: whatever handle is left open, leave within a second.
    setTimeout(() => process.exit(1), 1000).unref();
  },
);
