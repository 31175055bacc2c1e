/**
 * The decode worker: one worker thread, kept alive and reused, that decodes images and reads audio
 * metadata (untrusted bytes) with a V8 heap limit and a time cap per task. Tasks run ONE at a time in the
 * process, so the memory at the cap is that of one task. A worker that runs past the time cap is
 * terminated, one that crashes is dropped; the next task starts a fresh one. The worker's stdout and
 * stderr are piped here and not read (the decoders print nothing; stdio mode carries MCP messages only,
 * and a read stream would keep the process alive); the worker is unref'd, so one-shot commands exit.
 */
import { Worker } from 'node:worker_threads';
import type { AudioLimits } from './audio.js';
import type { Thumb, ThumbRequest } from './decode.js';

export type Task =
  { kind: 'thumb'; req: ThumbRequest } | { kind: 'audio'; bytes: Uint8Array; mimeType?: string; limits: AudioLimits };

export type Answer =
  | ({ ok: true; kind: 'thumb' } & Thumb)
  | { ok: true; kind: 'audio'; data: Uint8Array; mimeType: string; seconds: number }
  | { ok: false; reason: string };

export interface TaskLimits {
  timeoutMs: number;
  heapMb: number;
}

let running = false;
const queue: (() => void)[] = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  while (running) await new Promise<void>((r) => queue.push(r));
  running = true;
  try {
    return await fn();
  } finally {
    running = false;
    queue.shift()?.();
  }
}

let current: { worker: Worker; heapMb: number } | undefined;
/** Workers started so far (a reused worker is not counted again). */
let started = 0;

function workerFor(heapMb: number): Worker {
  if (current && current.heapMb === heapMb) return current.worker;
  if (current) void current.worker.terminate();
  const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    stdout: true,
    stderr: true,
  });
  worker.unref();
  started += 1;
  const entry = { worker, heapMb };
  worker.once('exit', () => {
    if (current === entry) current = undefined;
  });
  current = entry;
  return worker;
}

function drop(worker: Worker): void {
  if (current?.worker === worker) current = undefined;
  void worker.terminate();
}

const seconds = (ms: number): string => (ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);

/** Run one task in the decode worker; any failure is a one-line reason. */
export function runTask(task: Task, limits: TaskLimits): Promise<Answer> {
  return slot(() => once(task, limits));
}

function once(task: Task, limits: TaskLimits): Promise<Answer> {
  const verb = task.kind === 'thumb' ? 'decoding' : 'reading the audio';
  return new Promise<Answer>((resolve) => {
    const worker = workerFor(limits.heapMb);
    let settled = false;
    const done = (r: Answer, broken: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (broken) drop(worker);
      resolve(r);
    };
    const onMessage = (m: Answer): void => done(m, false);
    const onError = (err: Error): void =>
      done(
        {
          ok: false,
          reason: /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as { code?: string }).code} ${err.message}`)
            ? `${verb} needed more memory than allowed`
            : `the decoder failed (${err.message.slice(0, 120)})`,
        },
        true,
      );
    const onExit = (code: number): void => done({ ok: false, reason: `the decoder stopped (exit ${code})` }, true);
    const timer = setTimeout(
      () => done({ ok: false, reason: `${verb} took over ${seconds(limits.timeoutMs)}` }, true),
      limits.timeoutMs,
    );
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(task);
  });
}

/** How many decode workers this process has started (for the tests and the bench). */
export function workersStarted(): number {
  return started;
}
