/** Shared by the --auth oauth end-to-end tests: a free port, raw JSON-RPC posts, the paid call. */
import { createServer } from 'node:net';

export const PAID = 'mediaio_t2i_imagen_4';
export const ARGS = { prompt: 'a lighthouse', counts: '1' };

/** A port free now (the public URL names it before the server listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** POST one JSON-RPC message with a bearer token (and a session), as a client would. */
export function post(target: string, token: string | undefined, body: unknown, session?: string): Promise<Response> {
  return fetch(target, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(session ? { 'Mcp-Session-Id': session, 'Mcp-Protocol-Version': '2025-06-18' } : {}),
    },
    body: JSON.stringify(body),
  });
}
export const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
export const paidCall = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: PAID, arguments: ARGS } };
