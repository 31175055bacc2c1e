/**
 * The person at the terminal: a y/N approval question (default No) and a progress bar on stderr.
 * Streams are passed in so that tests and other front ends can give their own.
 */
import { createInterface } from 'node:readline';

export interface Tty {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** Ask once; anything but y/yes (including an empty line, end of input or Ctrl-C) is No. */
export function askApproval(tty: Tty, message: string, signal?: AbortSignal): Promise<boolean> {
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
    // The server stopped waiting (the approval form timed out): stop asking.
    signal?.addEventListener(
      'abort',
      () => {
        tty.err.write('\n(no answer in time)\n');
        finish(false);
      },
      { once: true },
    );
    rl.on('SIGINT', () => {
      tty.err.write('\n');
      finish(false);
    });
    const text = message
      .replace(/^Approve a paid generation\? /, '')
      .replace(/\. (Price|Balance|Reason): /g, '.\n  $1: ');
    rl.question(`Approve a paid generation?\n  ${text}\nRun it? [y/N] `, (line) =>
      finish(/^\s*y(es)?\s*$/i.test(line)),
    );
  });
}

/** `running (processing), 45%, 12 s` (the jobs_wait progress message) -> its parts. */
export function parseProgress(message: string | undefined): { word: string; percent?: number; seconds?: number } {
  const m = message ?? '';
  const pct = /(\d+(?:\.\d+)?)%/.exec(m);
  const secs = /(\d+) s$/.exec(m);
  return {
    word: m.split(/[ ,]/)[0] || 'waiting',
    percent: pct ? Math.min(100, Number(pct[1])) : undefined,
    seconds: secs ? Number(secs[1]) : undefined,
  };
}

/** A one-line bar redrawn in place on a terminal; plain lines (on change only) otherwise. */
export class ProgressView {
  private last = '';
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly err: Tty['err'],
    private readonly label: string,
  ) {}

  update(message: string | undefined): void {
    const p = parseProgress(message);
    const elapsed = p.seconds ?? Math.round((Date.now() - this.started) / 1000);
    if (this.err.isTTY) {
      const width = 24;
      let bar: string;
      if (p.percent !== undefined) {
        const full = Math.round((p.percent / 100) * width);
        bar = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${p.percent.toFixed(0).padStart(3)}%`;
      } else {
        const pos = elapsed % width;
        bar = `[${'.'.repeat(pos)}<=>${'.'.repeat(Math.max(0, width - pos - 3))}]`.slice(0, width + 2);
      }
      const line = `${this.label} ${bar} ${p.word} ${elapsed}s`;
      this.err.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      return;
    }
    const line = `${this.label}: ${p.word}${p.percent !== undefined ? ` ${p.percent}%` : ''}`;
    if (line !== this.last) this.err.write(`${line} (${elapsed} s)\n`);
    this.last = line;
  }

  /** End the bar's line (a terminal) so the next output starts clean. */
  end(): void {
    if (this.drawn) this.err.write('\n');
    this.drawn = false;
  }
}
