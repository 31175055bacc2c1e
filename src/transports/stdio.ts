/** stdio transport: MCP messages on stdout, nothing else; logs go to stderr. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { MediagenServer } from '../server.js';

export interface StdioEnd {
  /** Why the transport closed: the client closed stdin, a signal, or a transport error (e.g. a line over 10 MB). */
  reason: 'stdin closed' | 'stopped' | 'transport error';
  error?: Error;
}

/**
 * Serve until stdin closes, `stop()` is called, or the transport fails; in every case the calls in flight
 * are given up to `drainMs` to answer first (a lost transport cannot deliver answers, but a paid create
 * that completes is still recorded). Resolves with why it ended.
 */
export async function serveStdio(
  { server, drain }: MediagenServer,
  drainMs: number,
): Promise<{ ended: Promise<StdioEnd>; stop: () => void }> {
  const transport = new StdioServerTransport();
  let error: Error | undefined;
  let reason: StdioEnd['reason'] | undefined;
  let closing: Promise<void> | undefined;
  const finish = (why: StdioEnd['reason']): Promise<void> => {
    reason ??= why;
    closing ??= drain(drainMs).then(() => server.close());
    return closing;
  };
  const ended = new Promise<StdioEnd>((resolve) => {
    server.onclose = () => {
      if (reason) return resolve({ reason });
      // The transport closed itself (e.g. its read buffer overflowed): nothing can be answered any more,
      // but calls in flight still get the drain time to settle what they started.
      reason = 'transport error';
      void drain(drainMs).then(() => resolve({ reason: 'transport error', error: error ?? new Error('closed') }));
    };
  });
  server.onerror = (err) => {
    error ??= err;
  };
  await server.connect(transport);
  process.stdin.once('end', () => void finish('stdin closed'));
  return { ended, stop: () => void finish('stopped') };
}
