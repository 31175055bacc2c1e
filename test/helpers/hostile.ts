/**
 * A hostile provider on loopback, for what the sandbox will not say: Phaya's text-to-image wire with the
 * create's answer chosen by the test (odd job ids, echoed keys). Counts every request it receives.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hostile {
  /** Base URL to give as PHAYA_BASE. */
  base: string;
  requests: { method: string; path: string; auth: string }[];
  close(): Promise<void>;
}

export type Answer = (req: IncomingMessage, auth: string) => { status: number; body: string };

export async function startHostile(answer: Answer): Promise<Hostile> {
  const requests: Hostile['requests'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const auth = String(req.headers.authorization ?? '');
    requests.push({ method: req.method ?? '', path: req.url ?? '', auth });
    req.resume();
    req.on('end', () => {
      const a = answer(req, auth);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/api/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
