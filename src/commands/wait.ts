/**
 * `jobs wait` and `call --wait`: call jobs_wait until the job is final, drawing its progress on stderr.
 * Ctrl-C stops waiting (the jobs_wait request is cancelled) but never cancels the job; it says how to resume.
 */
import type { LocalSession } from '../transports/in-process.js';
import type { ToolResult } from '../tools/handler.js';
import { EXIT } from './argv.js';
import { exitCodeOf, render, type Shown } from './output.js';
import { ProgressView } from './progress.js';
import type { Tty } from './terminal.js';

export interface WaitIo {
  tty: Tty;
  out: NodeJS.WritableStream;
  json: boolean;
  /** How the final answer is shown (said for a person, coloured on a terminal). */
  shown?: Shown;
  /** Registers a Ctrl-C handler for the duration of the wait; returns its remover. */
  onInterrupt: (fn: () => void) => () => void;
  /** The process is stopping (SIGTERM, SIGHUP): stop waiting as Ctrl-C does. */
  stop?: AbortSignal;
}

function isFinal(r: ToolResult): boolean {
  const s = r.structuredContent?.status;
  return r.isError === true || (s !== 'pending' && s !== 'running');
}

export async function waitJob(session: LocalSession, jobId: string, download: boolean, io: WaitIo): Promise<number> {
  const abort = new AbortController();
  const view = new ProgressView(io.tty.err, jobId);
  const remove = io.onInterrupt(() => abort.abort());
  const onStop = (): void => abort.abort();
  io.stop?.addEventListener('abort', onStop, { once: true });
  if (io.stop?.aborted) abort.abort();
  try {
    for (;;) {
      let r: ToolResult;
      try {
        r = await session.call(
          'jobs_wait',
          { job_id: jobId, ...(download ? { download: true } : {}) },
          { signal: abort.signal, onProgress: (_p, _t, message) => view.update(message) },
        );
      } catch (err) {
        if (!abort.signal.aborted) throw err;
        view.clear();
        io.tty.err.write(
          `Stopped waiting. Job ${jobId} keeps running at the provider (it was not cancelled).\n` +
            `Resume with: mediagen-mcp jobs wait ${jobId}\n` +
            `Cancel with: mediagen-mcp jobs cancel ${jobId}\n`,
        );
        return EXIT.interrupted;
      }
      if (isFinal(r)) {
        view.end();
        io.out.write(render(r, io.json, io.shown));
        return exitCodeOf(r, true);
      }
    }
  } finally {
    remove();
    io.stop?.removeEventListener('abort', onStop);
  }
}
