/** A plain loopback HTTP server that serves fixed bytes per path (for output-type tests), counting hits. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MediaServer {
  url: string;
  hits(path: string): number;
  close(): Promise<void>;
}

/** `files`: path -> bytes and their Content-Type, or a bare HTTP status to answer. */
export async function serveFiles(
  files: Record<string, { type: string; data: Buffer } | { status: number }>,
): Promise<MediaServer> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const f = files[path];
    if (!f || 'status' in f) {
      res.writeHead(f ? f.status : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.data.length });
    res.end(f.data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: (p) => hits.get(p) ?? 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
