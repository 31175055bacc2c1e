/**
 * The command line for people and shell-driven agents: describe, quote, call, jobs, spend. Every command
 * runs through a real MCP client linked in-process to the real server (transports/in-process.ts), so the
 * validator, cost guard, consent, ledger and redaction are the very ones an MCP client meets.
 */
import { createApp } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, secretsOf, type Logger } from '../log.js';
import { noProviderNote } from '../tools/no-provider.js';
import type { RegistryOptions } from '../tools/registry.js';
import { connectInProcess, type ListedTool, type LocalSession } from '../transports/in-process.js';
import { EXIT, splitCommandLine, toolArguments, UsageError, type CommandLine } from './argv.js';
import { paintFor } from './colour.js';
import { describeText } from './describe.js';
import { codeOf, exitCodeOf, render, type Shown } from './output.js';
import { againWith } from './person.js';
import { screenOf } from './progress.js';
import { loosenedConsent, loudLine } from './loosening.js';
import { askApproval, type Tty } from './terminal.js';
import { waitJob, type WaitIo } from './wait.js';

export interface CommandDeps {
  tty: Tty;
  out: NodeJS.WritableStream;
  onInterrupt: WaitIo['onInterrupt'];
  sandboxOptions: (
    config: Config,
    logger: Logger,
  ) => Promise<{ sandbox?: { close(): Promise<void> }; opts: RegistryOptions }>;
  /**
   * Aborts (with a reason such as "SIGTERM") when the process is told to stop: a question is answered No,
   * a wait stops, no new call is sent, and a request in flight gets `--drain-seconds` to be recorded.
   */
  stop?: AbortSignal;
}

/** What dispatch needs besides the session: the deps and, for a tool, the consent-loosening lines. */
interface Ctx extends CommandDeps {
  loosened: (tool: string) => string[];
  /** How text answers are shown: said for a person, coloured on a terminal (never with --json). */
  shown: (waiting?: boolean) => Shown;
  /** The command line as typed, to say how to run it again. */
  argv: readonly string[];
  /** With no provider configured: why a generation tool is unknown, and the way out. */
  noProvider?: string;
}

function need(word: string | undefined, what: string): string {
  if (!word) throw new UsageError(`missing ${what}`);
  return word;
}

async function findTool(session: LocalSession, name: string, ctx?: Pick<Ctx, 'noProvider'>): Promise<ListedTool> {
  const tool = (await session.listTools()).find((t) => t.name === name);
  if (!tool)
    throw new UsageError(
      `unknown tool "${name}" (see: mediagen-mcp list)${ctx?.noProvider ? `. ${ctx.noProvider}` : ''}`,
    );
  return tool;
}

async function callCommand(session: LocalSession, cl: CommandLine, deps: Ctx): Promise<number> {
  const [, name, ...rest] = cl.words;
  const tool = await findTool(session, need(name, 'tool name'), deps);
  const args = toolArguments(rest, tool.inputSchema, cl.jsonArgs);
  if (cl.confirmToken !== undefined) args.confirm_token = cl.confirmToken;
  for (const line of deps.loosened(tool.name)) deps.tty.err.write(loudLine(line));
  if (deps.stop?.aborted) {
    deps.tty.err.write(`mediagen-mcp: ${String(deps.stop.reason)}: stopping; ${tool.name} was not sent\n`);
    return EXIT.interrupted;
  }
  const r = await session.call(tool.name, args);
  const waiting = cl.wait || cl.downloadDir !== undefined;
  // With --json and a wait, stdout carries one JSON document: the finished job (or this answer if no job).
  if (!(cl.json && waiting && !r.isError && typeof r.structuredContent?.job_id === 'string'))
    deps.out.write(render(r, cl.json, deps.shown(waiting)));
  const code = exitCodeOf(r);
  // With --json, stdout is the agent's answer as is; the command to run again goes to stderr.
  if (cl.json && codeOf(r) === 'CONFIRMATION_REQUIRED' && typeof r.structuredContent?.confirm_token === 'string')
    deps.tty.err.write(
      `Consent needed. If the person approves, run (valid once): ${againWith(deps.argv, r.structuredContent.confirm_token)}\n`,
    );
  const jobId = r.structuredContent?.job_id;
  if (code !== EXIT.ok || !waiting || typeof jobId !== 'string') return code;
  return waitJob(session, jobId, cl.downloadDir !== undefined, {
    ...deps,
    json: cl.json,
    shown: deps.shown(true),
    created: true,
  });
}

async function jobsCommand(session: LocalSession, cl: CommandLine, deps: Ctx): Promise<number> {
  const [, verb, ...rest] = cl.words;
  const show = async (tool: string, args: Record<string, unknown>): Promise<number> => {
    const r = await session.call(tool, args);
    deps.out.write(render(r, cl.json, deps.shown()));
    return exitCodeOf(r);
  };
  switch (verb) {
    case 'list':
      return show('jobs_list', toolArguments(rest, (await findTool(session, 'jobs_list')).inputSchema));
    case 'get':
      return show('jobs_get', { job_id: need(rest[0], 'job id') });
    case 'cancel':
      return show('jobs_cancel', { job_id: need(rest[0], 'job id') });
    case 'wait':
      return waitJob(session, need(rest[0], 'job id'), cl.downloadDir !== undefined, {
        ...deps,
        json: cl.json,
        shown: deps.shown(true),
      });
    default:
      throw new UsageError('usage: mediagen-mcp jobs list|get ID|wait ID|cancel ID');
  }
}

async function dispatch(session: LocalSession, cl: CommandLine, deps: Ctx): Promise<number> {
  const [command, name, ...rest] = cl.words;
  switch (command) {
    case 'describe': {
      const tool = await findTool(session, need(name, 'tool name'), deps);
      deps.out.write(cl.json ? JSON.stringify(tool) + '\n' : describeText(tool));
      return EXIT.ok;
    }
    case 'quote': {
      const tool = await findTool(session, need(name, 'tool name'), deps);
      for (const line of deps.loosened(tool.name)) deps.tty.err.write(loudLine(line));
      const r = await session.call('quote', {
        tool: tool.name,
        arguments: toolArguments(rest, tool.inputSchema, cl.jsonArgs),
      });
      deps.out.write(render(r, cl.json, deps.shown()));
      return exitCodeOf(r);
    }
    case 'list': {
      const tools = await session.listTools();
      deps.out.write(
        JSON.stringify(tools.map((t) => ({ name: t.name, title: t.title, description: t.description }))) + '\n',
      );
      return EXIT.ok;
    }
    case 'call':
      return callCommand(session, cl, deps);
    case 'jobs':
      return jobsCommand(session, cl, deps);
    case 'spend': {
      const r = await session.call(
        'spend_report',
        toolArguments(cl.words.slice(1), (await findTool(session, 'spend_report')).inputSchema),
      );
      deps.out.write(render(r, cl.json, deps.shown()));
      return exitCodeOf(r);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * Once `stop` aborts, the command has `ms` to end by itself (a paid create in flight is answered and
 * recorded); past that, `onExpiry` runs (the app's shutdown, which leaves such a request uncertain, never
 * lost) and `expired` resolves.
 */
function stopDeadline(
  stop: AbortSignal | undefined,
  ms: number,
  err: Tty['err'],
  onExpiry: () => Promise<void>,
): { expired: Promise<number>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => undefined;
  const screen = screenOf(err);
  const expired = new Promise<number>((resolve) => {
    onAbort = () => {
      screen.print(
        `mediagen-mcp: ${String(stop?.reason)}: stopping; a request in flight is answered and recorded first ` +
          `(up to ${ms / 1000} s)\n`,
      );
      timer = setTimeout(() => {
        screen.print(`mediagen-mcp: ${String(stop?.reason)}: no answer within ${ms / 1000} s; leaving it uncertain\n`);
        void onExpiry().then(() => resolve(EXIT.interrupted));
      }, ms);
    };
  });
  if (stop?.aborted) onAbort();
  else stop?.addEventListener('abort', onAbort, { once: true });
  return {
    expired,
    clear: () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onAbort);
    },
  };
}

/** A signal that aborts when either does (with its reason): the form's time ran out, or the command stops. */
function either(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  if (!b) return a;
  const both = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener('abort', () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

/** Run one command line; resolves with its exit code. Bad usage: one line on stderr, exit 2. */
export async function runCommand(argv: readonly string[], deps: CommandDeps): Promise<number> {
  let cl: CommandLine;
  try {
    cl = splitCommandLine(argv);
  } catch (err) {
    deps.tty.err.write(paintFor(deps.tty.err).error(`mediagen-mcp: ${(err as Error).message}`) + '\n');
    return EXIT.usage;
  }
  const quiet = cl.configArgv.includes('--log-level') ? [] : ['--log-level', 'warn'];
  const { config } = loadConfig([...quiet, ...cl.configArgv]);
  // Log lines never land over the progress bar: the bar's line is cleared first and drawn again below.
  const screen = screenOf(deps.tty.err);
  const logger = createLogger(config.logLevel, secretsOf(config.env), (line) => screen.print(line + '\n'));
  const { sandbox, opts } = await deps.sandboxOptions(config, logger);
  let session: LocalSession | undefined;
  // SIGTERM or Ctrl-C while the store is waited for at start: stop waiting and leave at once.
  const starting = new AbortController();
  const removeInterrupt = deps.onInterrupt(() => starting.abort('SIGINT'));
  const onStop = (): void => starting.abort(String(deps.stop?.reason ?? 'SIGTERM'));
  deps.stop?.addEventListener('abort', onStop, { once: true });
  const app = await createApp(config, logger, { ...opts, startSignal: starting.signal })
    .catch(async (err: unknown) => {
      await sandbox?.close();
      if (!starting.signal.aborted) throw err;
      deps.tty.err.write(`mediagen-mcp: ${(err as Error).message}\n`);
      return undefined;
    })
    .finally(() => {
      removeInterrupt();
      deps.stop?.removeEventListener('abort', onStop);
    });
  if (!app) return EXIT.interrupted;
  // Ctrl-C or SIGTERM while the store was connecting, which then succeeded: nothing is sent after a stop.
  if (starting.signal.aborted) {
    await app.shutdown();
    await sandbox?.close();
    deps.tty.err.write('mediagen-mcp: stopped before anything was sent\n');
    return EXIT.interrupted;
  }
  let shutDown = false;
  const deadline = stopDeadline(deps.stop, config.drainSeconds * 1000, deps.tty.err, async () => {
    shutDown = true;
    await app.shutdown();
  });
  try {
    const mcp = app.createMcpServer(`cli:${process.pid}`);
    const approve = deps.tty.input.isTTY
      ? (message: string, signal: AbortSignal) => askApproval(deps.tty, message, either(signal, deps.stop))
      : undefined;
    session = await connectInProcess(mcp, approve);
    const paint = paintFor(deps.out as { isTTY?: boolean }, cl.json);
    const ctx: Ctx = {
      ...deps,
      argv,
      noProvider: noProviderNote(app.registry),
      shown: (waiting) => ({ argv, waiting, paint }),
      loosened: (name) => {
        const tool = app.registry.byName.get(name);
        return tool ? loosenedConsent(config, cl.configArgv, tool, app.registry.catalogues) : [];
      },
    };
    return await Promise.race([dispatch(session, cl, ctx), deadline.expired]);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    deps.tty.err.write(paintFor(deps.tty.err).error(`mediagen-mcp: ${err.message}`) + '\n');
    return EXIT.usage;
  } finally {
    deadline.clear();
    await session?.close();
    if (!shutDown) await app.close();
    await sandbox?.close();
  }
}
