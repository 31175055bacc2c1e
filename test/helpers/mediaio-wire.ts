/** Media.io wire helpers for the sandbox unit tests: the envelope, tasks and their results. */
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { request, UUID, type HttpAnswer } from './sandbox-http.js';

/** Media.io's documented default base URL. */
export const MEDIAIO_BASE = 'https://openapi.media.io';

export interface Envelope {
  code: number;
  msg: string;
  data: Record<string, unknown>;
  trace_id: string;
}

export interface TaskData {
  task_id: string;
  status: string;
  reason: string;
  result: { val: string; preview: string; status: number }[];
}

/** POST to a Media.io route of the sandbox with a raw body; `key: null` sends no X-API-KEY. */
export async function post(sb: Sandbox, path: string, body: string, key: string | null = sb.key): Promise<HttpAnswer> {
  return request(`${sb.baseUrl('mediaio', MEDIAIO_BASE)}${path}`, {
    method: 'POST',
    headers: key === null ? {} : { 'X-API-KEY': key },
    body,
  });
}

/** POST a JSON body and read the envelope, which must come with HTTP 200, JSON and a UUID trace_id. */
export async function env(
  sb: Sandbox,
  path: string,
  body: unknown = {},
  key: string | null = sb.key,
): Promise<Envelope> {
  const a = await post(sb, path, JSON.stringify(body), key);
  expect(a.status).toBe(200);
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  const e = JSON.parse(a.text) as Envelope;
  expect(e.trace_id).toMatch(UUID);
  return e;
}

/** Create a generation task (code 0) and return its `mio-` task id. */
export async function createTask(sb: Sandbox, model: string, data: Record<string, unknown>): Promise<string> {
  const e = await env(sb, `/generation/${model}`, { data });
  expect(e).toMatchObject({ code: 0, msg: '' });
  const id = e.data.task_id;
  expect(typeof id).toBe('string');
  expect(id).toMatch(/^mio-[0-9a-f]+$/);
  return id as string;
}

/** Poll a task once (code 0) and return its data. */
export async function poll(sb: Sandbox, taskId: string): Promise<TaskData> {
  const e = await env(sb, `/generation/result/${taskId}`);
  expect(e.code).toBe(0);
  return e.data as unknown as TaskData;
}
