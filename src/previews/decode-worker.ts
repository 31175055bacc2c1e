/** The decode worker's entry: one thumbnail per worker (thumbnail.ts starts it with resource limits). */
import { parentPort, workerData } from 'node:worker_threads';
import { thumbnail, type ThumbRequest } from './decode.js';

const port = parentPort;
if (port) {
  thumbnail(workerData as ThumbRequest).then(
    (t) => port.postMessage({ ok: true, ...t }),
    (err: unknown) => port.postMessage({ ok: false, reason: err instanceof Error ? err.message : String(err) }),
  );
}
