/**
 * An audio output as an MCP `audio` block: only a clip of at most 30 s and 600 KB (duration from
 * music-metadata, which runs in the decode worker under its time cap: it can hang on a corrupt file).
 */
export interface AudioLimits {
  maxSeconds: number;
  maxBytes: number;
}
export const AUDIO_LIMITS: AudioLimits = { maxSeconds: 30, maxBytes: 600 * 1024 };

export type AudioResult = { ok: true; data: Buffer; mimeType: string; seconds: number } | { ok: false; reason: string };

/** Runs in the decode worker (worker-pool.ts); previews call `clipInWorker`. */
export async function audioClip(
  bytes: Buffer,
  mimeType: string | undefined,
  limits = AUDIO_LIMITS,
): Promise<AudioResult> {
  if (bytes.length > limits.maxBytes)
    return {
      ok: false,
      reason: `${Math.round(bytes.length / 1024)} KB is over the ${limits.maxBytes / 1024} KB audio cap`,
    };
  const { parseBuffer } = await import('music-metadata');
  let seconds: number | undefined;
  let type = mimeType;
  try {
    const meta = await parseBuffer(bytes, mimeType ? { mimeType } : undefined, { duration: true, skipCovers: true });
    seconds = meta.format.duration;
    type = mimeOf(meta.format.container) ?? mimeType;
  } catch (err) {
    return { ok: false, reason: `its audio could not be read (${(err as Error).message.slice(0, 100)})` };
  }
  if (seconds === undefined || !Number.isFinite(seconds)) return { ok: false, reason: 'its length could not be read' };
  if (seconds > limits.maxSeconds)
    return { ok: false, reason: `${Math.round(seconds)} s is over the ${limits.maxSeconds} s audio cap` };
  if (!type?.startsWith('audio/')) return { ok: false, reason: 'not an audio type a client can play' };
  return { ok: true, data: bytes, mimeType: type, seconds };
}

function mimeOf(container: string | undefined): string | undefined {
  const c = (container ?? '').toLowerCase();
  if (c.includes('wave')) return 'audio/wav';
  if (c.includes('mpeg')) return 'audio/mpeg';
  if (c.includes('ogg')) return 'audio/ogg';
  if (c.includes('flac')) return 'audio/flac';
  if (c.includes('m4a') || c.includes('mp4') || c.includes('isom')) return 'audio/mp4';
  return undefined;
}
