/** Low-level HTTP plumbing of the sandbox: read a bounded body, parse it, write replies and files. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MediaFile } from './media.js';
import type { JsonBody, Reply } from './types.js';

/** Request bodies above this are refused with 413. */
export const BODY_LIMIT = 1024 * 1024;

/** Marks every sandbox response, so a client can tell it is not talking to the real provider. */
const SANDBOX_HEADER = { 'X-Mediagen-Sandbox': '1' } as const;

export type BodyResult = { ok: true; raw: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/** Read the whole body, giving up once it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: BodyResult): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle({ ok: false, reason: 'too-large' });
      else chunks.push(chunk);
    });
    req.on('end', () => settle({ ok: true, raw: Buffer.concat(chunks) }));
    req.on('error', () => settle({ ok: false, reason: 'aborted' }));
    req.on('close', () => settle({ ok: false, reason: 'aborted' }));
  });
}

export function parseJsonBody(raw: Buffer): JsonBody {
  const text = raw.toString('utf8');
  if (text.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch {
    return { kind: 'invalid', raw: text };
  }
}

/** What the stats log shows as the body. */
export function loggedBody(body: JsonBody): unknown {
  if (body.kind === 'json') return body.value;
  if (body.kind === 'invalid') return body.raw;
  return null;
}

export function sendReply(res: ServerResponse, reply: Reply, headOnly = false): void {
  if ('abandoned' in reply) {
    if (!res.destroyed) res.destroy();
    return;
  }
  if (res.destroyed || res.writableEnded) return;
  const isJson = 'json' in reply;
  const payload = Buffer.from(isJson ? JSON.stringify(reply.json) : reply.text, 'utf8');
  res.writeHead(reply.status, {
    ...SANDBOX_HEADER,
    ...reply.headers,
    'Content-Type': isJson ? 'application/json; charset=utf-8' : reply.contentType,
    'Content-Length': String(payload.length),
  });
  res.end(headOnly ? undefined : payload);
}

export function sendJson(res: ServerResponse, status: number, json: unknown, headers?: Record<string, string>): void {
  sendReply(res, headers ? { status, json, headers } : { status, json });
}

export function sendFile(res: ServerResponse, file: MediaFile, headOnly: boolean): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(200, {
    ...SANDBOX_HEADER,
    'Content-Type': file.contentType,
    'Content-Length': String(file.data.length),
    'Cache-Control': 'public, max-age=3600',
  });
  res.end(headOnly ? undefined : file.data);
}
