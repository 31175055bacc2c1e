/**
 * A hostile provider in front of the real sandbox: a loopback proxy that forwards every request to the
 * sandbox (which still counts it) and lets a test rewrite the JSON answers, e.g. a balance as "0x3e8".
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RewritingProxy {
  /** `base` (a sandbox base URL) with its origin replaced by the proxy's. */
  via(base: string): string;
  close(): Promise<void>;
}

/** `rewrite(path, json)` returns the answer to send instead (or the same value). */
export async function startRewritingProxy(
  target: string,
  rewrite: (path: string, json: unknown) => unknown,
): Promise<RewritingProxy> {
  const origin = new URL(target).origin;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length'),
      ) as Record<string, string>;
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      void fetch(`${origin}${req.url ?? '/'}`, { method: req.method, headers, body })
        .then(async (r) => {
          const text = await r.text();
          let out = text;
          if ((r.headers.get('content-type') ?? '').includes('json')) {
            try {
              out = JSON.stringify(rewrite(new URL(req.url ?? '/', origin).pathname, JSON.parse(text)));
            } catch {
              out = text;
            }
          }
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
          res.end(out);
        })
        .catch(() => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('proxy: upstream failed');
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    via: (base) => {
      const u = new URL(base);
      u.host = `127.0.0.1:${port}`;
      return u.toString().replace(/\/$/, base.endsWith('/') ? '/' : '');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
