/**
 * Provider-agnostic helpers for the sandbox unit tests: run a sandbox for one test, send HTTP requests to it,
 * download its media, read its counters. Provider wire formats live in mediaio-wire.ts, phaya-wire.ts and
 * ph0ny-wire.ts.
 */
import { expect } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions, type SandboxStats } from '../../src/sandbox/index.js';

export type Json = Record<string, unknown>;

/** A version 4 UUID, as both Media.io trace ids and Phaya job ids are. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Start a sandbox, run `fn` against it, and close it whatever happens. */
export async function withSandbox(opts: SandboxOptions, fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await startSandbox(opts);
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

/** An HTTP answer: `text` is the raw body, `body` the same parsed as JSON. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

export interface HttpRequest {
  method: string;
  headers?: Record<string, string>;
  /** A string is sent as it is, anything else as JSON; either way with Content-Type: application/json. */
  body?: unknown;
  /**
   * How to read the answer: 'strict' requires JSON (the call rejects otherwise); 'lenient' (the default) leaves
   * `body` as {} when the answer is not JSON (SSE, HTML 503), for the caller to read `text`.
   */
  json?: 'strict' | 'lenient';
}

/** fetch() `url` and read the whole answer. */
export async function request(url: string, req: HttpRequest): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, {
    method: req.method,
    headers,
    body: req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
  });
  const text = await res.text();
  if (req.json === 'strict') return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Json };
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    // not JSON: the caller reads `text`
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** `Authorization: Bearer <key>`, or no header at all for `key: null`. */
export function bearer(key: string | null): Record<string, string> {
  return key === null ? {} : { Authorization: `Bearer ${key}` };
}

/** A call to one provider's routes: `key` defaults to the sandbox's, `key: null` sends no Authorization. */
export type BearerCall = (
  sb: Sandbox,
  method: string,
  path: string,
  body?: unknown,
  key?: string | null,
  extraHeaders?: Record<string, string>,
) => Promise<HttpAnswer>;

/** A BearerCall that sends each path under `base(sb)` with `Authorization: Bearer <key>`. */
export function bearerCall(base: (sb: Sandbox) => string, json: HttpRequest['json'] = 'lenient'): BearerCall {
  return (sb, method, path, body, key = sb.key, extraHeaders = {}) =>
    request(`${base(sb)}${path}`, { method, headers: { ...bearer(key), ...extraHeaders }, body, json });
}

export interface Download {
  status: number;
  type: string | null;
  length: string | null;
  bytes: Buffer;
}

/** GET a URL and read its bytes, whatever the status. */
export async function fetchBytes(url: string): Promise<Download> {
  const res = await fetch(url);
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    length: res.headers.get('content-length'),
    bytes,
  };
}

/** GET a URL that must answer 200, and read its bytes. */
export async function download(url: string): Promise<Download> {
  const file = await fetchBytes(url);
  expect(file.status).toBe(200);
  return file;
}

export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Buffer): boolean {
  return b.subarray(0, 8).equals(Buffer.from(PNG_SIGNATURE));
}

export function isMp4(b: Buffer): boolean {
  return b.subarray(4, 8).toString('ascii') === 'ftyp';
}

export function isWav(b: Buffer): boolean {
  return b.subarray(0, 4).toString('ascii') === 'RIFF' && b.subarray(8, 12).toString('ascii') === 'WAVE';
}

/** Download a result URL (it must be a string and answer 200) and name its format by its magic bytes. */
export async function mediaKind(url: unknown): Promise<'png' | 'mp4' | 'wav' | 'unknown'> {
  expect(typeof url).toBe('string');
  const { bytes } = await download(url as string);
  if (isPng(bytes)) return 'png';
  if (isMp4(bytes)) return 'mp4';
  if (isWav(bytes)) return 'wav';
  return 'unknown';
}

/** Whether a URL answers 200 with an MP4 (no assertion: the caller expects the answer). */
export async function downloadsMp4(url: unknown): Promise<boolean> {
  const file = await fetchBytes(String(url));
  return file.status === 200 && isMp4(file.bytes);
}

/** The counters of a sandbox with nothing counted and no job. */
export const EMPTY_STATS: SandboxStats = { total: 0, byProvider: {}, byRoute: {}, requests: [], jobs: 0 };

/** Expect the sandbox's counters to be exactly these; returns the stats for further checks. */
export function expectCounts(
  sb: Sandbox,
  counts: Pick<SandboxStats, 'total' | 'byProvider' | 'byRoute'>,
): SandboxStats {
  const s = sb.stats();
  expect(s.total).toBe(counts.total);
  expect(s.byProvider).toEqual(counts.byProvider);
  expect(s.byRoute).toEqual(counts.byRoute);
  return s;
}

/** reset() the sandbox and expect its counters to be empty again. */
export function expectResetEmpty(sb: Sandbox): void {
  sb.reset();
  expect(sb.stats()).toEqual(EMPTY_STATS);
}

/** GET /_sandbox/stats (the HTTP form of sb.stats() for out-of-process tests); it must answer 200. */
export async function httpStats(sb: Sandbox): Promise<SandboxStats> {
  const res = await fetch(`${sb.url}/_sandbox/stats`);
  expect(res.status).toBe(200);
  return (await res.json()) as SandboxStats;
}
