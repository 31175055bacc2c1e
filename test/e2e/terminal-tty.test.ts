/**
 * The command line as a person sees it: the built bin inside a real terminal (tmux, a detached session of a
 * given size), `--sandbox` with a long poll interval so a job runs for a while, and the screen captured
 * with `capture-pane` (with `-e`, the colours too). Each test has its own tmux server (-L socket).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/in-memory.js';
import { CLI } from '../helpers/paths.js';

const sockets: string[] = [];
const tmux = (socket: string, ...args: string[]): string =>
  execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Pane {
  /** The visible screen, one string per row (`-J`: a wrapped line is joined back into one). */
  screen(opts?: { colours?: boolean; joined?: boolean }): string[];
  /** Wait (up to 40 s) until the screen shows `pred`. */
  until(pred: (rows: string[]) => boolean, what: string): Promise<string[]>;
  keys(...keys: string[]): void;
  /** Wait (up to 40 s) for the command to end; its exit code, and the screen it left. */
  ended(): Promise<{ code: number; rows: string[] }>;
}

/** Start the CLI in a fresh tmux server and window of `width` columns; the pane stays after it exits. */
function open(width: number, args: string[], env: Record<string, string> = {}): Pane {
  const socket = `mg-tty-${process.pid}-${sockets.length}-${Date.now()}`;
  sockets.push(socket);
  const conf = join(tempDir(), 'tmux.conf');
  writeFileSync(conf, 'set -g remain-on-exit on\nset -g history-limit 100\n');
  const vars = {
    PATH: process.env.PATH ?? '',
    TERM: 'xterm-256color',
    MEDIAGEN_STATE_DIR: tempDir(),
    // A poll every 6 s: between two polls nothing new comes from the server, only the clock moves.
    MEDIAGEN_POLL_MS: '6000',
    ...env,
  };
  // bash waits for the command and writes its exit code (tmux's own record of it is not always kept). A
  // bash running a command lets it handle Ctrl-C and goes on once it exits (it is not killed by it).
  const codeFile = join(tempDir(), 'exit-code');
  const run = `env -i ${Object.entries(vars)
    .map(([k, v]) => q(`${k}=${v}`))
    .join(' ')} ${[process.execPath, CLI, ...args].map(q).join(' ')}`;
  const command = `bash -c ${q(`${run}; echo $? > ${q(codeFile)}`)}`;
  tmux(socket, '-f', conf, 'new-session', '-d', '-x', String(width), '-y', '30', command);
  const screen: Pane['screen'] = (o = {}) =>
    tmux(socket, 'capture-pane', '-p', ...(o.colours ? ['-e'] : []), ...(o.joined ? ['-J'] : []))
      .replace(/\n+$/, '')
      .split('\n');
  return {
    screen,
    async until(pred, what) {
      for (let i = 0; i < 400; i++) {
        const rows = screen();
        if (pred(rows)) return rows;
        await sleep(100);
      }
      const panes = tmux(socket, 'list-panes', '-F', '#{pane_dead} #{pane_pid}');
      throw new Error(`the terminal never showed ${what} (${panes}):\n${screen().join('\n')}`);
    },
    keys: (...keys) => void tmux(socket, 'send-keys', ...keys),
    async ended() {
      for (let i = 0; i < 400; i++) {
        const code = existsSync(codeFile) ? readFileSync(codeFile, 'utf8').trim() : '';
        // tmux's own "Pane is dead" note is no output of the command
        if (/^\d+$/.test(code))
          return { code: Number(code), rows: screen().filter((r) => !r.startsWith('Pane is dead')) };
        await sleep(100);
      }
      throw new Error(`the command never ended:\n${screen().join('\n')}`);
    },
  };
}

afterAll(() => {
  for (const s of sockets) {
    try {
      tmux(s, 'kill-server');
    } catch {
      // already gone
    }
  }
});

/** The progress bar's rows: they start with the job id (cut or not), unlike every other line. */
const barRows = (rows: string[]): string[] => rows.filter((r) => /^job_\S+/.test(r));
const secondsOf = (row: string): number => Number(/ (\d+)s$/.exec(row)?.[1] ?? NaN);

/** An SGR (colour) escape, then `tail`: built from ESC, since a control character may not sit in a literal. */
const sgr = (tail = '', code = '[0-9;]*'): RegExp => new RegExp(`${String.fromCharCode(27)}\\[${code}m${tail}`);

const WAIT = ['call', 'phaya_text_to_image', 'prompt=a pond', '--sandbox', '--wait'];

describe('the command line in a real terminal (tmux)', { timeout: 60_000 }, () => {
  it('a 50-column terminal: one bar row that fits, its time ticking between polls; Ctrl-C leaves a clean screen', async () => {
    const pane = open(50, WAIT);
    const first = await pane.until((rows) => barRows(rows).length > 0, 'a progress bar');
    await sleep(2_500); // well inside the 6 s between two polls
    const later = pane.screen();
    const bars = barRows(later);
    // One bar row: no stale copy of an earlier drawing, none wrapped onto a second row.
    expect(bars, later.join('\n')).toHaveLength(1);
    for (const row of barRows(pane.screen({ joined: true }))) expect(row.length).toBeLessThan(50);
    expect(secondsOf(bars[0])).toBeGreaterThan(secondsOf(barRows(first)[0]));
    // The next step is a command to run, not a tool call for an agent.
    expect(later.join('\n')).not.toContain('Call jobs_wait');

    pane.keys('C-c');
    const { code, rows: end } = await pane.ended();
    const text = end.join('\n');
    expect(code, text).toBe(130);
    expect(text).toContain('Stopped waiting.');
    expect(text).toMatch(/Resume with: mediagen-mcp jobs wait job_/);
    expect(text).not.toContain('AbortError');
    expect(text).not.toContain('[mediagen-mcp] error');
    expect(text).not.toContain('^C');
    expect(barRows(end), text).toHaveLength(0);
  });

  it('prices and the y/N question are coloured on a terminal; an answer No is said to the person', async () => {
    const pane = open(100, ['call', 'phaya_veo31_video', 'prompt=a kite', '--sandbox']);
    await pane.until((rows) => rows.some((r) => r.includes('[y/N]')), 'the y/N question');
    const coloured = pane.screen({ colours: true });
    const ask = coloured.find((r) => r.includes('Run it?'))!;
    expect(ask).toMatch(sgr('.*Run it\\?'));
    expect(coloured.find((r) => r.includes('Approve a paid generation?'))).toMatch(sgr());
    expect(coloured.find((r) => r.includes('Price:'))).toMatch(sgr('15 credits'));
    pane.keys('Enter');
    const { code, rows: end } = await pane.ended();
    const text = end.join('\n');
    expect(code, text).toBe(3);
    expect(text).toContain('Not approved: phaya_veo31_video (answered No). Nothing was sent or charged.');
    expect(text).not.toContain('The user');
    const error = pane.screen({ colours: true }).find((r) => r.includes('CONSENT_DECLINED'));
    expect(error).toMatch(sgr('', '[0-9;]*31'));
  });

  it('NO_COLOR=1: the same screens carry no colour at all', async () => {
    const pane = open(100, ['call', 'phaya_veo31_video', 'prompt=a kite', '--sandbox'], { NO_COLOR: '1' });
    await pane.until((rows) => rows.some((r) => r.includes('[y/N]')), 'the y/N question');
    const screen = pane.screen({ colours: true }).join('\n');
    expect(screen).toContain('15 credits');
    expect(screen).not.toMatch(sgr());
    pane.keys('Enter');
    await pane.ended();
    expect(
      pane
        .screen({ colours: true })
        .filter((r) => !r.startsWith('Pane is dead'))
        .join('\n'),
    ).not.toMatch(sgr());
  });

  it('a call that starts a job says how to wait for it as a command; the job line shows its price in colour', async () => {
    const pane = open(120, ['call', 'phaya_text_to_image', 'prompt=a cup', '--sandbox']);
    const { code, rows: end } = await pane.ended();
    const text = end.join('\n');
    expect(code, text).toBe(0);
    expect(text).toMatch(/To wait for the result: mediagen-mcp jobs wait job_\S+/);
    expect(text).not.toContain('Call jobs_wait');
    expect(pane.screen({ colours: true }).join('\n')).toMatch(sgr('1 credits?'));
  });
});
