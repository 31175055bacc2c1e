/**
 * Shared types of the sandbox gateway: what the core hands a provider wire module, and what the module
 * hands back. One module per provider (mediaio.ts today; phaya and ph0ny later).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Job, JobStore } from './jobs.js';
import type { MediaKind } from './media.js';

/** The request body as the core read it. Bad JSON is not an error here: the provider module decides. */
export type JsonBody = { kind: 'empty' } | { kind: 'json'; value: unknown } | { kind: 'invalid'; raw: string };

/** What a provider module says about a request before it is handled (used for the stats). */
export interface RequestInfo {
  /** Route template, e.g. `/generation/result/{task_id}`; `undefined` when no route matches. */
  route: string | undefined;
  /** Whether the request carries the sandbox key the way this provider expects it. */
  authorized: boolean;
}

export interface ParsedRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** Path below the provider prefix, e.g. `/generation/result/mio-1a2b` (no query string). */
  path: string;
  query: URLSearchParams;
  /** Node's lower-cased header map. */
  headers: IncomingHttpHeaders;
  body: JsonBody;
  /** Filled in by the core from the module's `inspect`. */
  route: string | undefined;
  authorized: boolean;
}

interface ReplyBase {
  status: number;
  headers?: Record<string, string>;
}
/** A JSON reply (serialised by the core) or a raw text reply with its own content type. */
export type Reply =
  | (ReplyBase & { json: unknown })
  | (ReplyBase & { text: string; contentType: string })
  /** The client went away while the reply was being prepared: send nothing. */
  | { abandoned: true };

export interface SandboxContext {
  /** The sandbox's own base URL, e.g. `http://127.0.0.1:43123`. */
  url: string;
  /** The one key the sandbox accepts. */
  key: string;
  pollsToComplete: number;
  slowMs: number;
  jobs: JobStore;
  /** A fresh trace id (UUID v4). */
  traceId(): string;
  /** Absolute URL of a sample media file served by the sandbox. */
  mediaUrl(kind: MediaKind, job?: Job): string;
  /**
   * Stall for `ms`. Resolves `true` if the client is still connected afterwards, `false` as soon as it
   * disconnects (or the sandbox closes). Create side effects only after this resolves `true`.
   */
  stall(ms: number): Promise<boolean>;
}

export interface ProviderModule {
  /** URL prefix segment, e.g. `mediaio` -> `http://host:port/mediaio/...`. */
  name: string;
  inspect(method: string, path: string, headers: IncomingHttpHeaders, key: string): RequestInfo;
  handle(req: ParsedRequest, ctx: SandboxContext): Promise<Reply> | Reply;
}

export function jsonReply(status: number, json: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, json, headers } : { status, json };
}

export function textReply(
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
  headers?: Record<string, string>,
): Reply {
  return headers ? { status, text, contentType, headers } : { status, text, contentType };
}

/** The value of a header that may have been sent more than once (first wins). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** decodeURIComponent that gives a malformed segment back as it is instead of throwing. */
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
