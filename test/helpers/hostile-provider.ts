/**
 * A small hostile provider on loopback for download tests. It speaks the Acme test catalogue's wire
 * (test/fixtures/catalogues/acme.json: bearer auth, POST /image/{model}/create -> {job_id}, GET
 * /image/status/{job_id} -> {status: "completed", image_url}) and hands out whatever result URLs the test
 * sets, and it serves the targets those URLs may point at:
 *
 *   /media/<name>.png   a real PNG            /secret          a "secret" that must never be saved
 *   /drip               1 byte a second, 60 s /redirect?to=URL a 302 to URL
 *
 * It counts hits per path and TCP connections, so a test can prove a refused download never connected.
 * A test can also set the status word its jobs report (`setStatus`), register a job under a chosen id
 * (`addJob`), make creates hang without ever answering (`hangCreates`), and delay status answers
 * (`delayStatus`).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makePng } from '../../src/sandbox/media.js';

export const ACME_KEY = 'acme-test-key';
export const PNG = makePng(8, 8);

export interface HostileProvider {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Result URLs of the jobs created from now on. */
  setOutputs(urls: string[]): void;
  /** The status word every job reports from now on (default "completed"). */
  setStatus(word: string): void;
  /** A job the provider knows under `id`, with these result URLs. */
  addJob(id: string, urls: string[]): void;
  /** From now on a create is received (and counted) but never answered. */
  hangCreates(on: boolean): void;
  /** From now on a status answer waits this long (0: at once). */
  delayStatus(ms: number): void;
  /** Hits per path (without query). */
  hits(path: string): number;
  connections(): number;
  /** From now on a create's job exists at once but its answer waits until the returned release is called. */
  holdCreates(): () => void;
  /** Ids of the jobs created so far, oldest first. */
  jobIds(): string[];
  close(): Promise<void>;
}

export async function startHostileProvider(): Promise<HostileProvider> {
  let outputs: string[] = [];
  const jobs = new Map<string, string[]>();
  const hits = new Map<string, number>();
  let connections = 0;
  let held: (() => void)[] | undefined;
  let statusWord = 'completed';
  let hang = false;
  let statusDelay = 0;
  const drips = new Set<NodeJS.Timeout>();
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    hits.set(u.pathname, (hits.get(u.pathname) ?? 0) + 1);
    req.resume();
    if (u.pathname.startsWith('/image/')) {
      if (req.headers.authorization !== `Bearer ${ACME_KEY}`) return json(res, 401, { error: 'unauthorized' });
      if (req.method === 'POST' && u.pathname.endsWith('/create')) {
        if (hang) return;
        const id = `h-${jobs.size + 1}`;
        jobs.set(id, outputs);
        if (held) return void held.push(() => json(res, 200, { job_id: id }));
        return json(res, 200, { job_id: id });
      }
      const id = /^\/image\/status\/([\w-]+)$/.exec(u.pathname)?.[1];
      const urls = id ? jobs.get(id) : undefined;
      if (!id || !urls) return json(res, 404, { error: 'no such job' });
      const answer = { status: statusWord, image_url: urls };
      if (statusDelay > 0) {
        const t = setTimeout(() => json(res, 200, answer), statusDelay);
        res.on('close', () => clearTimeout(t));
        return;
      }
      return json(res, 200, answer);
    }
    if (u.pathname.startsWith('/media/')) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
      return res.end(PNG);
    }
    if (u.pathname === '/secret') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('TOP SECRET');
    }
    if (u.pathname === '/redirect') {
      res.writeHead(302, { location: u.searchParams.get('to') ?? '/' });
      return res.end();
    }
    if (u.pathname === '/drip') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 60 });
      let sent = 0;
      const t = setInterval(() => {
        res.write(PNG.subarray(sent % PNG.length, (sent % PNG.length) + 1));
        if (++sent >= 60) {
          clearInterval(t);
          res.end();
        }
      }, 1000);
      drips.add(t);
      res.on('close', () => {
        clearInterval(t);
        drips.delete(t);
      });
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setOutputs: (urls) => {
      outputs = urls;
    },
    setStatus: (word) => {
      statusWord = word;
    },
    addJob: (id, urls) => void jobs.set(id, urls),
    hangCreates: (on) => {
      hang = on;
    },
    delayStatus: (ms) => {
      statusDelay = ms;
    },
    hits: (path) => hits.get(path) ?? 0,
    connections: () => connections,
    holdCreates: () => {
      const waiting: (() => void)[] = [];
      held = waiting;
      return () => {
        if (held === waiting) held = undefined;
        for (const answer of waiting.splice(0)) answer();
      };
    },
    jobIds: () => [...jobs.keys()],
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of drips) clearInterval(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
