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
  /** This command created the job (`call --wait`); `jobs wait ID` may name any id, so it claims no charge. */
  created?: boolean;
}

/**
 * Errors of reading a job, not of the job: the wait goes on (backing off) instead of ending. Only the store's
 * outage: an INTERNAL (a bug, a failed download) is an answer and ends the wait with exit 1.
 */
const UNREAD = new Set(['STORE_UNAVAILABLE']);

/** How long a wait keeps trying through a store outage (MEDIAGEN_WAIT_STORE_SECONDS, default 120 s). */
function unreadBoundMs(): number {
  const s = Number(process.env.MEDIAGEN_WAIT_STORE_SECONDS);
  return (Number.isFinite(s) && s >= 0 ? s : 120) * 1000;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
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
  const stopped = (): number => {
    view.clear();
    io.tty.err.write(
      `Stopped waiting. Job ${jobId} keeps running at the provider (it was not cancelled).\n` +
        `Resume with: mediagen-mcp jobs wait ${jobId}\n` +
        `Cancel with: mediagen-mcp jobs cancel ${jobId}\n`,
    );
    return EXIT.interrupted;
  };
  let unreadSince: number | undefined;
  let backoff = 500;
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
        return stopped();
      }
      const code = r.isError ? r.structuredContent?.code : undefined;
      if (typeof code === 'string' && UNREAD.has(code)) {
        // The job exists (it may be charged): a failed read never ends the wait without its id.
        unreadSince ??= Date.now();
        if (Date.now() - unreadSince < unreadBoundMs()) {
          view.update(`the store is unavailable; trying again (job ${jobId})`);
          await sleep(backoff, abort.signal);
          backoff = Math.min(backoff * 2, 8_000);
          if (abort.signal.aborted) return stopped();
          continue;
        }
        view.end();
        const resume = `mediagen-mcp jobs wait ${jobId}`;
        const created = io.created === true;
        if (io.json)
          io.out.write(
            `${JSON.stringify({ is_error: true, ...r.structuredContent, job_id: jobId, created, resume })}\n`,
          );
        else io.out.write(render(r, false, io.shown));
        io.tty.err.write(
          created
            ? `Job ${jobId} was created (it may be charged); resume with: ${resume}\n`
            : `The store stayed unavailable; resume with: ${resume}\n`,
        );
        return EXIT.unread;
      }
      unreadSince = undefined;
      backoff = 500;
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
