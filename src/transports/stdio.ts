/** stdio transport: MCP messages on stdout, nothing else; logs go to stderr. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { MediagenServer } from '../server.js';

/** Serve until stdin closes or the process is asked to stop; resolves when the transport has closed. */
export async function serveStdio({ server, drain }: MediagenServer): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(transport);
  // The client closed our stdin: answer the calls already in flight, then stop.
  process.stdin.once('end', () => void drain().then(() => server.close()));
  await closed;
}
