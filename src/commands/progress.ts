/**
 * The one status line at the bottom of a terminal: a progress bar redrawn in place, never wider than the
 * terminal (so it never wraps into a stale line), ticking each second between polls. Every other line
 * written to stderr while it is shown (a log line, a notice) clears it first and redraws it below.
 */
import type { Tty } from './terminal.js';

const CLEAR = '\r\x1b[2K';

/** The status line of one stderr stream (one per stream, so logs and the bar agree on what is shown). */
export class Screen {
  private line: string | undefined;

  constructor(private readonly err: Tty['err']) {}

  get tty(): boolean {
    return this.err.isTTY === true;
  }

  /**
   * Usable width: three columns less than the terminal, so neither the cursor nor the `^C` a terminal
   * echoes after the line ever wraps (a wrapped line could not be cleared in place).
   */
  get width(): number {
    const cols = this.err.columns;
    return Math.max(10, (typeof cols === 'number' && cols > 0 ? cols : 80) - 3);
  }

  /** Draw (or redraw) the status line in place, cut to the terminal's width. */
  show(text: string): void {
    this.line = cut(text, this.width);
    this.err.write(CLEAR + this.line);
  }

  /** Text above the status line: the line is cleared first and drawn again below it. */
  print(text: string): void {
    if (this.line === undefined) {
      this.err.write(text);
      return;
    }
    this.err.write(CLEAR + (text.endsWith('\n') ? text : text + '\n') + this.line);
  }

  /** Keep the status line's last state as a line of its own. */
  end(): void {
    if (this.line !== undefined) this.err.write('\n');
    this.line = undefined;
  }

  /** Remove the status line (and whatever the terminal echoed after it, such as ^C). */
  clear(): void {
    if (this.line !== undefined) this.err.write(CLEAR);
    this.line = undefined;
  }
}

const screens = new WeakMap<object, Screen>();

export function screenOf(err: Tty['err']): Screen {
  let s = screens.get(err);
  if (!s) screens.set(err, (s = new Screen(err)));
  return s;
}

/** Cut to `width` columns (code points; the bar is ASCII, job ids and status words too). */
export function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
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

/** The bar itself, `width` columns inside its brackets: a percentage, or a marker moving with time. */
function bar(percent: number | undefined, elapsed: number, width: number): string {
  if (percent !== undefined) {
    const full = Math.round((percent / 100) * width);
    return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${percent.toFixed(0).padStart(3)}%`;
  }
  const pos = elapsed % Math.max(1, width - 2);
  return `[${'.'.repeat(pos)}<=>${'.'.repeat(Math.max(0, width - pos - 3))}]`;
}

/**
 * A job's progress: on a terminal a bar redrawn in place, its elapsed time ticking each second between the
 * server's progress messages; otherwise plain lines (on change only).
 */
export class ProgressView {
  private last = '';
  private state: { word: string; percent?: number } = { word: 'waiting' };
  /** Seconds since the job was created, as of `at` (the last message), or since this view started. */
  private base = 0;
  private at = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly screen: Screen;

  constructor(
    err: Tty['err'],
    private readonly label: string,
  ) {
    this.screen = screenOf(err);
  }

  private elapsed(): number {
    return this.base + Math.floor((Date.now() - this.at) / 1000);
  }

  private draw(): void {
    const elapsed = this.elapsed();
    const tail = ` ${this.state.word} ${elapsed}s`;
    const width = this.screen.width;
    // The label (a job id, printed in full above) is cut first, down to 12 columns, to keep a bar of 10;
    // on a terminal narrower still the bar goes: the status word and the time always show.
    const pct = this.state.percent !== undefined ? 5 : 0;
    const fixed = tail.length + 1 + 2 + pct;
    const labelRoom = Math.max(12, Math.min(this.label.length, width - fixed - 10));
    const label = cut(this.label, labelRoom);
    const inner = Math.min(24, width - fixed - [...label].length);
    const line = inner >= 6 ? `${label} ${bar(this.state.percent, elapsed, inner)}${tail}` : `${label}${tail}`;
    this.screen.show(line);
  }

  update(message: string | undefined): void {
    const p = parseProgress(message);
    this.state = { word: p.word, percent: p.percent };
    if (p.seconds !== undefined) {
      this.base = p.seconds;
      this.at = Date.now();
    }
    if (this.screen.tty) {
      this.draw();
      if (!this.timer) {
        this.timer = setInterval(() => this.draw(), 1000);
        this.timer.unref();
      }
      return;
    }
    const line = `${this.label}: ${p.word}${p.percent !== undefined ? ` ${p.percent}%` : ''}`;
    if (line !== this.last) this.screen.print(`${line} (${this.elapsed()} s)\n`);
    this.last = line;
  }

  /** The job is final: its last state stays on a line of its own. */
  end(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.screen.end();
  }

  /** Stopped waiting: the bar goes (with the ^C the terminal echoed after it). */
  clear(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.screen.clear();
  }
}
