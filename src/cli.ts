#!/usr/bin/env node
/**
 * bin entry: parse flags and env once, pick a command. Bad configuration or catalogue: one line on
 * stderr and exit code 2, before anything is served.
 */
import { loadConfig, USAGE, type Config } from './config.js';
import { StartupError } from './errors.js';
import { createLogger, secretsOf, type Logger } from './log.js';
import type { Sandbox } from './sandbox/index.js';
import { consentSettings, createApp, SERVER_TOOL_NAMES } from './app.js';
import { consentNote } from './guard/policy.js';
import { VERSION } from './server.js';
import { buildRegistry, type Registry, type RegistryOptions } from './tools/registry.js';
import { serveStdio } from './transports/stdio.js';

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

function printList(registry: Registry, sandbox: boolean): void {
  const rows = registry.tools.map((t) => {
    const price = t.description.split('\n').find((l) => l.startsWith('Price:')) ?? 'Free.';
    const off = t.op.disabled ? ' [off by default]' : '';
    const nokey = !sandbox && registry.unconfigured.includes(t.catalogue.provider) ? ' [no key]' : '';
    return `${t.name}\t${t.catalogue.provider}\t${price}${off}${nokey}`;
  });
  process.stdout.write(rows.join('\n') + '\n');
}

/** Serve over stdio; resolves with the exit code (non-zero when the transport failed). */
async function serve(config: Config, logger: Logger): Promise<number> {
  const { sandbox, opts } = await sandboxOptions(config, logger);
  let app: ReturnType<typeof createApp>;
  try {
    app = createApp(config, logger, opts);
  } catch (err) {
    await sandbox?.close();
    throw err;
  }
  const mcp = app.createMcpServer(`stdio:${process.pid}`);
  const drainMs = config.drainSeconds * 1000;
  logger.info(`serving ${app.registry.tools.length + app.serverTools.length} tools over stdio`, {
    version: VERSION,
    stateDir: config.stateDir,
  });
  const { ended, stop } = await serveStdio(mcp, drainMs);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const end = await ended;
  if (end.error) logger.error(`stdio transport failed: ${end.error.message}`);
  const uncertain = await app.settleInflight();
  if (uncertain.length)
    logger.warn(`shut down with ${uncertain.length} paid request(s) unanswered; left uncertain`, {
      reservations: uncertain,
    });
  await app.close(true);
  await sandbox?.close();
  // Nothing may keep a stopping server alive past its drain deadline.
  setTimeout(() => process.exit(), 1_000).unref();
  return end.reason === 'transport error' ? 1 : 0;
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

export async function main(argv: readonly string[]): Promise<number> {
  const { help, version, config } = loadConfig(argv);
  if (help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (version) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const logger = createLogger(config.logLevel, secretsOf(config.env));
  if (config.command === 'list') {
    const settings = consentSettings(config);
    const registry = buildRegistry(config, logger, {
      keepUnconfigured: true,
      consentHint: (op, cat) => consentNote(op, cat, settings),
      serverToolNames: SERVER_TOOL_NAMES,
    });
    printList(registry, config.sandbox);
    await registry.close();
    return 0;
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
      process.stderr.write(`mediagen-mcp: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`mediagen-mcp: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
