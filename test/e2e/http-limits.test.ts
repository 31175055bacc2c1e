/**
 * The bounds of the HTTP transport, each over real HTTP to the built server, with the sandbox counting
 * provider requests: messages (not requests) against --http-rate, batches, sessions per principal and in
 * all, the time to send a request, connections, failed bearer attempts per address, and a jobs_wait whose
 * client has gone.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { INIT, MCP_HEADERS, spawnHttp, writeTokens, type HttpServerProcess } from '../helpers/http-server.js';
import { hits, phayaEnv, T2I, T2I_PATH, until } from '../helpers/money.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP request over a fresh connection from `from` (a loopback address), read to the end. */
function send(
  url: string,
  o: { method?: string; body?: unknown; headers?: Record<string, string>; from?: string; signal?: AbortSignal },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: o.method ?? 'POST',
        headers: { ...MCP_HEADERS, ...o.headers },
        localAddress: o.from ?? '127.0.0.1',
        agent: false,
        signal: o.signal,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body === undefined ? undefined : JSON.stringify(o.body));
  });
}

/** The JSON-RPC messages of an answer, whether plain JSON or an SSE stream. */
function messages(a: Answer): Record<string, unknown>[] {
  if (a.text.trim().startsWith('{') || a.text.trim().startsWith('['))
    return ([] as Record<string, unknown>[]).concat(JSON.parse(a.text) as Record<string, unknown>);
  return a.text
    .split('\n')
    .filter((l) => l.startsWith('data: ') && l.length > 6)
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** Open a stateful session with a raw initialize (and notifications/initialized); its request headers. */
async function open(url: string, token: string, version = '2025-11-25'): Promise<Record<string, string>> {
  const init = await send(url, {
    body: { ...INIT, params: { ...INIT.params, protocolVersion: version } },
    headers: bearer(token),
  });
  expect(init.status, init.text).toBe(200);
  const headers = {
    ...bearer(token),
    'Mcp-Session-Id': String(init.headers['mcp-session-id']),
    'Mcp-Protocol-Version': version,
  };
  const note = await send(url, { body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
  expect(note.status, note.text).toBe(202);
  return headers;
}

const createCall = (id: number, prompt: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: T2I, arguments: { prompt } },
});
const batch = (n: number, prompt: string) => Array.from({ length: n }, (_, i) => createCall(100 + i, `${prompt} ${i}`));

let sandbox: Sandbox;
const servers: HttpServerProcess[] = [];
async function serve(
  principals: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<{ s: HttpServerProcess; tokens: Record<string, string> }> {
  const dir = tempDir();
  const t = writeTokens(dir, Object.fromEntries(principals.map((p) => [p, {}])));
  const s = await spawnHttp(phayaEnv(sandbox, { MEDIAGEN_STATE_DIR: dir, ...env }), [
    '--tokens-file',
    t.file,
    '--rate-limit',
    'phaya=off',
    ...args,
  ]);
  servers.push(s);
  return { s, tokens: t.tokens };
}

beforeAll(async () => {
  // Jobs never finish here: a wait only ends by its budget or by its client going.
  sandbox = await startSandbox({ pollsToComplete: 1_000_000 });
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  await sandbox?.close();
});

describe('JSON-RPC batches count every message against --http-rate', () => {
  let s: HttpServerProcess;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    ({ s, tokens } = await serve(['alice', 'bob', 'carol'], ['--http-rate', '5/60']));
  });

  it('a batch of 100 tools/call under --http-rate 5/60 runs at most 5 creates (here: none, a clear 400)', async () => {
    sandbox.reset();
    const headers = await open(s.url, tokens.alice, '2025-03-26');
    const r = await send(s.url, { body: batch(100, 'a batch'), headers });
    expect(r.status).toBe(400);
    expect(messages(r)[0]).toMatchObject({
      error: { code: -32600, message: /batch of 100 messages.*--http-max-batch/ },
    });
    expect(hits(sandbox, T2I_PATH)).toBeLessThanOrEqual(5);
    expect(hits(sandbox, T2I_PATH)).toBe(0);
  });

  it('each message of a batch is charged: 3 run, the next batch of 3 gets 429 with Retry-After and sends nothing', async () => {
    sandbox.reset();
    const headers = await open(s.url, tokens.bob, '2025-03-26'); // 2 messages of bob's 5
    const first = await send(s.url, { body: batch(3, 'three'), headers });
    expect(first.status, first.text).toBe(200);
    const answers = messages(first);
    expect(answers).toHaveLength(3);
    for (const a of answers) expect(a.result, JSON.stringify(a)).toMatchObject({ structuredContent: { job_id: /./ } });
    expect(hits(sandbox, T2I_PATH)).toBe(3);
    const second = await send(s.url, { body: batch(3, 'three more'), headers });
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(messages(second)[0]).toMatchObject({ error: { message: /batch counts 3 messages/ } });
    expect(hits(sandbox, T2I_PATH)).toBe(3);
  });

  it('a batch under protocol 2025-11-25 (which has no batches) is refused with 400 and sends nothing', async () => {
    sandbox.reset();
    const headers = await open(s.url, tokens.carol);
    const r = await send(s.url, { body: batch(2, 'new protocol'), headers });
    expect(r.status).toBe(400);
    expect(messages(r)[0]).toMatchObject({ error: { code: -32600, message: /not part of MCP protocol 2025-11-25/ } });
    expect(hits(sandbox, T2I_PATH)).toBe(0);
  });
});

describe('sessions are capped per principal and in all', () => {
  it('the 4th session of a principal gets 429, the server-wide 6th gets 503; DELETE frees a place', async () => {
    const { s, tokens } = await serve(['alice', 'bob', 'carol'], [], {
      MEDIAGEN_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '3',
      MEDIAGEN_HTTP_MAX_SESSIONS: '5',
    });
    const alice = [];
    for (let i = 0; i < 3; i++) alice.push(await open(s.url, tokens.alice));
    const fourth = await send(s.url, { body: INIT, headers: bearer(tokens.alice) });
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(messages(fourth)[0]).toMatchObject({
      error: { message: /Too many sessions: this principal has 3 open.*DELETE/ },
    });
    await open(s.url, tokens.bob);
    await open(s.url, tokens.bob);
    const sixth = await send(s.url, { body: INIT, headers: bearer(tokens.carol) });
    expect(sixth.status).toBe(503);
    expect(messages(sixth)[0]).toMatchObject({ error: { message: /the server holds 5/ } });
    expect((await send(s.url, { method: 'DELETE', headers: alice[0] })).status).toBe(200);
    await open(s.url, tokens.carol);
    expect((await send(s.url, { body: INIT, headers: bearer(tokens.alice) })).status).toBe(503);
  });
});

describe('--session-idle-seconds counts from the end of the last request of a session, never during one', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const list = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list' });
  let s: HttpServerProcess;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    // An idle timeout of 1 s: the sweep runs every second.
    ({ s, tokens } = await serve(['alice'], ['--session-idle-seconds', '1'], { MEDIAGEN_POLL_MS: '200' }));
  });

  it('a jobs_wait longer than the idle timeout is answered, and its session still works after', async () => {
    const headers = await open(s.url, tokens.alice);
    const wait = await createThenWait(s.url, headers, 'a wait past the idle timeout', 4);
    expect(wait.status, wait.text).toBe(200);
    expect(messages(wait)[0]).toMatchObject({ id: 3, result: { structuredContent: { done: false } } });
    const after = await send(s.url, { body: list(4), headers });
    expect(after.status, after.text).toBe(200);
    expect(messages(after)[0]).toMatchObject({ id: 4, result: { tools: expect.any(Array) as unknown } });
  });

  it('an open SSE GET stream keeps its session; an idle session is still ended', async () => {
    const headers = await open(s.url, tokens.alice);
    const idle = await open(s.url, tokens.alice);
    const abort = new AbortController();
    const stream = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        s.url,
        {
          method: 'GET',
          headers: { ...headers, Accept: 'text/event-stream' },
          localAddress: '127.0.0.1',
          agent: false,
          signal: abort.signal,
        },
        (res) => {
          res.on('error', () => undefined);
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (e) => (abort.signal.aborted ? undefined : reject(e)));
      req.end();
    });
    expect(stream).toBe(200);
    try {
      await sleep(4_000); // the stream stays open well past the idle timeout; `idle` sees nothing at all
      const after = await send(s.url, { body: list(5), headers });
      expect(after.status, after.text).toBe(200);
      expect(messages(after)[0]).toMatchObject({ id: 5, result: { tools: expect.any(Array) as unknown } });
      const gone = await send(s.url, { body: list(6), headers: idle });
      expect(gone.status, gone.text).toBe(404);
    } finally {
      abort.abort();
    }
  });
});

/** Wait (bounded) for the server to close a socket; what it wrote before closing. */
function closed(sock: Socket, ms: number): Promise<{ closed: boolean; text: string }> {
  return new Promise((resolve) => {
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.on('error', () => undefined);
    const timer = setTimeout(() => resolve({ closed: false, text }), ms);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, text });
    });
  });
}

/** A socket to the server; `halfOpen`: it stays open (and writable) after the server's end, as a hostile client's would. */
function socketTo(url: string, from = '127.0.0.1', halfOpen = false): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: u.hostname, port: Number(u.port), localAddress: from, allowHalfOpen: halfOpen }, () =>
      resolve(sock),
    );
    sock.once('error', reject);
  });
}

describe('a request must arrive within --http-request-timeout; answers may take longer', () => {
  let s: HttpServerProcess;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    ({ s, tokens } = await serve(['alice'], [], { MEDIAGEN_HTTP_REQUEST_TIMEOUT: '1', MEDIAGEN_POLL_MS: '200' }));
  });

  it('an authenticated POST whose body never finishes is answered 408 and closed by the server', async () => {
    const sock = await socketTo(s.url);
    const u = new URL(s.url);
    const ended = closed(sock, 20_000);
    sock.write(
      `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${tokens.alice}\r\n` +
        `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":`,
    );
    const r = await ended;
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a connection that never sends its headers is closed too', async () => {
    const r = await closed(await socketTo(s.url), 20_000);
    expect(r.closed).toBe(true);
  });

  it('a jobs_wait answer longer than the request timeout still arrives', async () => {
    const headers = await open(s.url, tokens.alice);
    const wait = await createThenWait(s.url, headers, 'a slow wait', 3);
    expect(wait.status).toBe(200);
    expect(messages(wait)[0]).toMatchObject({ id: 3, result: { structuredContent: { done: false } } });
  });
});

/** Create a sandbox job (request id 2), then jobs_wait on it for `seconds` (request id 3); the wait's answer. */
async function createThenWait(url: string, headers: Record<string, string>, prompt: string, seconds: number) {
  const created = messages(await send(url, { body: createCall(2, prompt), headers }));
  const job = (created[0].result as { structuredContent: { job_id: string } }).structuredContent.job_id;
  return send(url, {
    body: {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'jobs_wait', arguments: { job_id: job, wait_seconds: seconds } },
    },
    headers,
  });
}

/** Send a request on an open socket and read its status line (the connection stays open: keep-alive). */
function statusOn(sock: Socket, url: string, token: string): Promise<string> {
  const u = new URL(url);
  const body = JSON.stringify(INIT);
  return new Promise((resolve) => {
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    sock.write(
      `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

describe('connections are capped per client address and in all', () => {
  it('the 3rd connection of an address gets 429 and is closed while another address is served; past the total, 503', async () => {
    const { s, tokens } = await serve(['alice'], [], {
      MEDIAGEN_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '2',
      MEDIAGEN_HTTP_MAX_CONNECTIONS: '3',
    });
    const held = [await socketTo(s.url, '127.0.0.2'), await socketTo(s.url, '127.0.0.2')];
    const third = await closed(await socketTo(s.url, '127.0.0.2'), 10_000);
    expect(third.closed).toBe(true);
    expect(third.text).toMatch(/^HTTP\/1\.1 429[^]*Too many connections from this address \(limit 2\)/);
    held.push(await socketTo(s.url, '127.0.0.4')); // the 3rd in all, and served
    expect(await statusOn(held[2], s.url, tokens.alice)).toBe('HTTP/1.1 200 OK');
    const over = await closed(await socketTo(s.url, '127.0.0.5'), 10_000);
    expect(over.closed).toBe(true);
    expect(over.text).toMatch(/^HTTP\/1\.1 503[^]*Too many connections: the server holds 3/);
    for (const h of held) h.destroy();
    // Freed places are counted back: a request is served again (bounded retries while the closes land).
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const r = await send(s.url, { body: INIT, headers: bearer(tokens.alice), from: '127.0.0.2' }).catch(() => ({
        status: 0,
      }));
      status = r.status;
      if (status !== 200) await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe(200);
  });
});

describe('a refused connection is closed even while it keeps sending', () => {
  it.each([
    ['--http-max-connections 1', { MEDIAGEN_HTTP_MAX_CONNECTIONS: '1' }, '127.0.0.8', '127.0.0.9'],
    [
      '--http-max-connections-per-address 1',
      { MEDIAGEN_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '1' },
      '127.0.0.10',
      '127.0.0.10',
    ],
  ])('%s: a refused socket that keeps sending GET requests is closed by the server', async (_cap, env, held, from) => {
    const { s } = await serve(['alice'], [], env);
    const first = await socketTo(s.url, held);
    const sock = await socketTo(s.url, from, true);
    const u = new URL(s.url);
    const ended = closed(sock, 15_000);
    // Traffic that an idle timeout would count as activity: a whole GET again and again, never answered.
    const ticker = setInterval(() => {
      if (!sock.destroyed) sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
    }, 200);
    try {
      const r = await ended;
      expect(r.closed).toBe(true);
      expect(r.text).toMatch(/^HTTP\/1\.1 (503|429)[^]*Too many connections/);
      expect(r.text).not.toMatch(/HTTP\/1\.1 200/);
    } finally {
      clearInterval(ticker);
      sock.destroy();
      first.destroy();
    }
  });
});

describe('failed bearer attempts are limited per client address', () => {
  it('after 3 wrong tokens the address gets 429 with Retry-After, a right token included; another address is unaffected', async () => {
    const { s, tokens } = await serve(['alice'], [], { MEDIAGEN_HTTP_AUTH_FAIL_RATE: '3/60' });
    const from = '127.0.0.6';
    for (let i = 0; i < 3; i++) {
      const r = await send(s.url, { body: INIT, headers: bearer(`guess-${i}`), from });
      expect(r.status).toBe(401);
    }
    const blocked = await send(s.url, { body: INIT, headers: bearer('guess-3'), from });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(messages(blocked)[0]).toMatchObject({ error: { message: /failed bearer attempts/ } });
    expect((await send(s.url, { body: INIT, headers: bearer(tokens.alice), from })).status).toBe(429);
    expect((await send(s.url, { body: INIT, headers: bearer(tokens.alice), from: '127.0.0.7' })).status).toBe(200);
    expect((await send(s.url, { body: INIT, headers: bearer('guess-x'), from: '127.0.0.7' })).status).toBe(401);
    expect(s.stderr()).not.toContain('guess-');
  });
});

describe('jobs_wait stops when its HTTP client has gone', () => {
  it.each([
    ['stateful', []],
    ['stateless', ['--stateless']],
  ])('%s: the polls stop growing once the client drops the connection mid-wait', async (_mode, extra) => {
    // No background worker: it would go on polling the open job, as it should, with nobody waiting.
    const { s, tokens } = await serve(['alice'], extra, { MEDIAGEN_POLL_MS: '100', MEDIAGEN_WORKER: '0' });
    const headers =
      extra.length > 0
        ? { ...bearer(tokens.alice), 'Mcp-Protocol-Version': '2025-11-25' }
        : await open(s.url, tokens.alice);
    const created = messages(await send(s.url, { body: createCall(2, 'a long wait'), headers }));
    const made = (created[0].result as { structuredContent: { job_id: string; provider_job_id: string } })
      .structuredContent;
    const job = made.job_id;
    // This job's status polls only (other servers of this file share the sandbox).
    const polls = (): number =>
      sandbox.stats().requests.filter((r) => r.method === 'GET' && r.path.includes(made.provider_job_id)).length;
    const abort = new AbortController();
    const wait = send(s.url, {
      body: {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'jobs_wait', arguments: { job_id: job, wait_seconds: 50 } },
      },
      headers,
      signal: abort.signal,
    });
    await until(() => polls() >= 3, 20_000);
    abort.abort();
    await expect(wait).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 500)); // a poll already on its way may still land
    const atDrop = polls();
    // Without the fix the wait goes on polling (every 100 ms × 1.5^n) for its 50 s.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(polls()).toBe(atDrop);
    await s.stop();
  });
});
