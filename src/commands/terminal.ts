/**
 * The person at the terminal: a y/N approval question (default No) on stderr, coloured on a terminal.
 * Streams are passed in so that tests and other front ends can give their own.
 */
import { createInterface } from 'node:readline';
import { paintFor, paintPrices } from './colour.js';

export interface Tty {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** Input is type-ahead until the terminal has been quiet this long after the price was shown. */
const QUIET_MS = 200;

/**
 * Read and drop what is waiting on the terminal: keys typed (or fed by a program) before the price was on
 * screen never answer the question. Raw mode first, so that a line typed ahead without Enter is dropped
 * too. The terminal counts as quiet only after a poll for input has run since the quiet timer fired, so a
 * busy event loop cannot let buffered keys through. Resolves false for Ctrl-C or Ctrl-D typed meanwhile,
 * or when `signal` aborts (both mean No).
 */
function discardTypeAhead(input: Tty['input'], signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = (ok: boolean): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      input.off('data', onData);
      signal?.removeEventListener('abort', onAbort);
      input.pause();
      resolve(ok);
    };
    const onAbort = (): void => end(false);
    const arm = (): void => {
      clearTimeout(timer);
      const at = seen;
      // setImmediate runs after the poll phase that follows the timer: input already waiting is seen first.
      timer = setTimeout(() => setImmediate(() => (seen === at ? end(true) : arm())), QUIET_MS);
    };
    const onData = (chunk: Buffer | string): void => {
      seen++;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes.includes(0x03) || bytes.includes(0x04)) return end(false);
      arm();
    };
    if (signal?.aborted) return resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
    arm();
  });
}

/** Why the question stopped: the reason a stopping command gave, otherwise the form's time ran out. */
function stopWord(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'no answer in time';
}

/**
 * Ask once; anything but y/yes (including an empty line, end of input or Ctrl-C) is No. The price is shown
 * first, input typed before it (or while it is read) is discarded, and only then is the question asked.
 */
export async function askApproval(tty: Tty, message: string, signal?: AbortSignal): Promise<boolean> {
  const text = message
    .replace(/^Approve a paid generation\? /, '')
    .replace(/\. (Price|Balance|Reason): /g, '.\n  $1: ');
  const paint = paintFor(tty.err);
  const lines = text.split('\n').map((l) => (/^\s*(Price|Balance):/.test(l) ? paintPrices(l, paint) : l));
  tty.err.write(`${paint.ask('Approve a paid generation?')}\n  ${lines.join('\n')}\n`);
  if (!(await discardTypeAhead(tty.input, signal))) {
    tty.input.setRawMode?.(false);
    tty.err.write(signal?.aborted ? `(${stopWord(signal)})\n` : '\n');
    return false;
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: tty.input, output: tty.err, terminal: true });
    let answered = false;
    const finish = (yes: boolean): void => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    rl.on('close', () => finish(false));
    // The server stopped waiting (the approval form timed out), or the command is stopping: stop asking.
    signal?.addEventListener(
      'abort',
      () => {
        tty.err.write(`\n(${stopWord(signal)})\n`);
        finish(false);
      },
      { once: true },
    );
    rl.on('SIGINT', () => {
      tty.err.write('\n');
      finish(false);
    });
    rl.question(`${paint.ask('Run it? [y/N]')} `, (line) => finish(/^\s*y(es)?\s*$/i.test(line)));
  });
}
