/**
 * Run the built command line the two ways a person or an agent does: with pipes (not a terminal) and
 * inside a real pseudo-terminal (util-linux `script`), typing answers and Ctrl-C into it.
 */
import { spawn } from 'node:child_process';
import { CLI, freshStateDir } from './paths.js';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Pipes: stdin is closed (or given `input`), stdout and stderr captured apart. */
export function runPiped(args: string[], env: Record<string, string>, input = ''): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: freshStateDir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PtyStep {
  /** Type this once the output contains `when`, or once `when()` is true (checked every 50 ms). */
  when: string | (() => boolean);
  send: string;
  /** Wait this long after `when` matched before typing. */
  delayMs?: number;
}

/**
 * A real pseudo-terminal: `script` gives the command a pty as stdin, stdout and stderr; each step's keys are
 * typed once the terminal shows its `when` text. Resolves with everything the terminal showed.
 */
export function runInPty(args: string[], env: Record<string, string>, steps: PtyStep[] = []): Promise<Ran> {
  // exec: the command itself (not a shell waiting for it) is the terminal's foreground process, as when typed
  const command = `exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      // Plain text (NO_COLOR) unless a test asks otherwise: these tests read words; terminal-tty reads colours.
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm', NO_COLOR: '1', MEDIAGEN_STATE_DIR: freshStateDir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const pending = [...steps];
    let busy = false;
    const next = (): void => {
      const when = pending[0]?.when;
      if (busy || when === undefined || !(typeof when === 'string' ? stdout.includes(when) : when())) return;
      const step = pending.shift()!;
      busy = true;
      setTimeout(() => {
        busy = false;
        child.stdin.write(step.send);
        next();
      }, step.delayMs ?? 0);
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      next();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const timer = setInterval(next, 50);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
    next();
  });
}
