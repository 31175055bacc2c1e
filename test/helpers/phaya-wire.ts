/** Phaya wire helpers for the sandbox unit tests: calls from the host root or under /api/v1, jobs and statuses. */
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { bearerCall, type BearerCall, type HttpAnswer, type Json } from './sandbox-http.js';

/** Phaya's documented default base URL (the /api/v1 routes). */
export const PHAYA_BASE = 'https://api.phaya.io/api/v1';

/** Text-to-image create, as a path from the host root. */
export const T2I = '/api/v1/text-to-image/generate';

/**
 * Call a Phaya path from the host root (`/api/v1/...` or `/v1/...`); `key: null` sends no Authorization.
 * A body that is not JSON (SSE, HTML 503) is left in `text`.
 */
export const callRoot = bearerCall((sb) => `${sb.url}/phaya`);

/** Call a Phaya route under /api/v1 (with the sandbox key unless told otherwise); the answer must be JSON. */
export const callApi = bearerCall((sb) => sb.baseUrl('phaya', PHAYA_BASE), 'strict');

/** POST a job create that must answer 200, and return the answer. `call` defaults to callApi. */
export async function postJob(sb: Sandbox, path: string, body: Json, call: BearerCall = callApi): Promise<HttpAnswer> {
  const a = await call(sb, 'POST', path, body);
  expect(a.status).toBe(200);
  return a;
}

/** POST a job create that must answer 200, and return its job_id. `call` defaults to callApi. */
export async function createJob(sb: Sandbox, path: string, body: Json, call: BearerCall = callApi): Promise<string> {
  return (await postJob(sb, path, body, call)).body.job_id as string;
}

/** GET /api/v1/<svc>/status/<id>, which must answer 200, and return its body. */
export async function status(sb: Sandbox, svc: string, id: string): Promise<Json> {
  const a = await callApi(sb, 'GET', `/${svc}/status/${id}`);
  expect(a.status).toBe(200);
  return a.body;
}
