#!/usr/bin/env node
/**
 * bin entry: parse flags and env once, pick a command. Bad configuration or catalogue: one line on
 * stderr and exit code 2, before anything is served.
 */
import { loadConfig, USAGE, type Config } from './config.js';
import { StartupError } from './errors.js';
import { createLogger, type Logger } from './log.js';
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

async function serve(config: Config, logger: Logger): Promise<void> {
  const { sandbox, opts } = await sandboxOptions(config, logger);
  const app = createApp(config, logger, opts);
  const mcp = app.createMcpServer(`stdio:${process.pid}`);
  const stop = async (): Promise<void> => {
    await mcp.drain();
    await mcp.server.close();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  logger.info(`serving ${app.registry.tools.length + app.serverTools.length} tools over stdio`, {
    version: VERSION,
    stateDir: config.stateDir,
  });
  await serveStdio(mcp);
  await app.close();
  await sandbox?.close();
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
  const logger = createLogger(config.logLevel);
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
  await serve(config, logger);
  return 0;
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
