/** The decode worker's entry (worker-pool.ts starts it with resource limits): one task per message. */
import { parentPort } from 'node:worker_threads';
import { audioClip } from './audio.js';
import { thumbnail } from './decode.js';
import type { Answer, Task } from './worker-pool.js';

const port = parentPort;

async function run(t: Task): Promise<Answer> {
  if (t.kind === 'thumb') return { ok: true, kind: 'thumb', ...(await thumbnail(t.req)) };
  const clip = await audioClip(
    Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength),
    t.mimeType,
    t.limits,
  );
  return clip.ok ? { ok: true, kind: 'audio', data: clip.data, mimeType: clip.mimeType, seconds: clip.seconds } : clip;
}

port?.on('message', (t: Task) => {
  run(t).then(
    (a) => port.postMessage(a),
    (err: unknown) => port.postMessage({ ok: false, reason: err instanceof Error ? err.message : String(err) }),
  );
});
