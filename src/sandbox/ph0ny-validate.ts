/**
 * ph0ny Video API request checks, from the seed's field tables (../shared/seeds/003_*). The docs show
 * no error body; the sandbox answers HTTP 400 `{"error": {"code": "validation_error", "message",
 * "field"}}`, shaped like the documented VideoJob `error: {code, message}`.
 */
import { isRecord } from './types.js';

export const VIDEO_TYPES = ['generate', 'avatar', 'lipsync', 'dub', 'analyze'] as const;
export type VideoType = (typeof VIDEO_TYPES)[number];

export const AVATAR_ENGINES = ['hallo3', 'heygen', 'liveportrait', 'echomimicv2', 'v-express', 'skyreels-a1'] as const;
export const LIPSYNC_ENGINES = ['sync-labs', 'heygen-lipsync', 'latentsync', 'video-retalking', 'musetalk'] as const;
export const ANALYZE_ENGINES = ['twelve-labs', 'internvideo2.5', 'qwen2.5-vl', 'qwen3-vl', 'videochat-flash'] as const;

/**
 * The engine `provider: "auto"` (the documented default) resolves to. Not documented: the sandbox
 * picks a self-hosted engine (no BYOK needed); the generate example shows the pinned one, "runway".
 */
export const AUTO_ENGINE: Readonly<Record<VideoType, string>> = {
  generate: 'ltx-video',
  avatar: 'hallo3',
  lipsync: 'latentsync',
  dub: 'latentsync',
  analyze: 'internvideo2.5',
};

/**
 * Engines the Video API page marks BYOK, with the header that carries the caller's own key. The page
 * documents the X-Provider-Key-<Provider> pattern (ElevenLabs, OpenAI, ...) but not these three names;
 * they follow the pattern. A call that picks one without its header is refused (400 byok_required: the
 * error body is not documented either, so it is shaped like the sandbox's other errors).
 */
export const BYOK_HEADERS: Readonly<Record<string, string>> = {
  heygen: 'x-provider-key-heygen',
  'sync-labs': 'x-provider-key-synclabs',
  'twelve-labs': 'x-provider-key-twelvelabs',
};

/** The BYOK engines a checked body picks (its engine, and dub's lipsync engine). */
export function byokEngines(type: VideoType, value: Record<string, unknown>, provider: string): string[] {
  const picked = [
    provider,
    ...(type === 'dub' && typeof value.lipsync_provider === 'string' ? [value.lipsync_provider] : []),
  ];
  return [...new Set(picked.filter((e) => e in BYOK_HEADERS))];
}

export const GENERATE_DEFAULTS = { duration_seconds: 5, width: 768, height: 512, fps: 24 } as const;

export interface Invalid {
  field: string;
  message: string;
}
export type Checked = { ok: true; value: Record<string, unknown>; provider: string } | { ok: false; error: Invalid };

type Rule = (body: Record<string, unknown>) => Invalid | undefined;

function str(name: string, opts: { req?: boolean; min?: number; max?: number; url?: boolean } = {}): Rule {
  return (b) => {
    const v = b[name];
    if (v === undefined || v === null) return opts.req ? { field: name, message: `${name} is required` } : undefined;
    if (typeof v !== 'string') return { field: name, message: `${name} must be a string` };
    const len = [...v].length;
    if (len < (opts.min ?? (opts.req ? 1 : 0)) || (opts.max !== undefined && len > opts.max)) {
      return { field: name, message: `${name} must be ${opts.min ?? 1}–${opts.max ?? '∞'} characters` };
    }
    if (opts.url && !/^https?:\/\/\S+$/i.test(v)) return { field: name, message: `${name} must be an http(s) URL` };
    return undefined;
  };
}

function num(name: string, min: number, max: number, integer: boolean): Rule {
  return (b) => {
    const v = b[name];
    if (v === undefined || v === null) return undefined;
    const kind = integer ? 'an integer' : 'a number';
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      return { field: name, message: `${name} must be ${kind} between ${min} and ${max}` };
    }
    return undefined;
  };
}

function oneOf(name: string, values: readonly string[]): Rule {
  return (b) => {
    const v = b[name];
    if (v === undefined || v === null || v === 'auto' || (typeof v === 'string' && values.includes(v)))
      return undefined;
    return { field: name, message: `${name} must be one of: auto, ${values.join(', ')}` };
  };
}

const webhook = str('webhook_url', { url: true });

const RULES: Readonly<Record<VideoType, readonly Rule[]>> = {
  generate: [
    str('prompt', { req: true, min: 1, max: 2000 }),
    str('negative_prompt'),
    num('duration_seconds', 1, 30, false),
    num('width', 256, 1920, true),
    num('height', 256, 1080, true),
    num('fps', 8, 60, true),
    str('provider', { min: 1 }),
    webhook,
  ],
  avatar: [
    str('image_url', { req: true, url: true }),
    str('audio_url', { url: true }),
    str('text', { min: 1, max: 10000 }),
    str('voice_id'),
    str('tts_provider'),
    str('target_language'),
    oneOf('provider', AVATAR_ENGINES),
    webhook,
    (b) =>
      b.audio_url !== undefined || (b.text !== undefined && b.voice_id !== undefined)
        ? undefined
        : { field: 'audio_url', message: 'provide audio_url, or text and voice_id' },
  ],
  lipsync: [
    str('video_url', { req: true, url: true }),
    str('audio_url', { req: true, url: true }),
    oneOf('provider', LIPSYNC_ENGINES),
    webhook,
  ],
  dub: [
    str('video_url', { req: true, url: true }),
    str('target_language', { req: true }),
    str('source_language'),
    str('voice_id'),
    str('tts_provider'),
    oneOf('lipsync_provider', LIPSYNC_ENGINES),
    oneOf('provider', LIPSYNC_ENGINES),
    webhook,
  ],
  analyze: [
    str('video_url', { req: true, url: true }),
    oneOf('provider', ANALYZE_ENGINES),
    (b) =>
      b.tasks === undefined ||
      (Array.isArray(b.tasks) && b.tasks.length > 0 && b.tasks.every((t) => typeof t === 'string'))
        ? undefined
        : { field: 'tasks', message: 'tasks must be a non-empty array of strings' },
    webhook,
  ],
};

/** Check a create body; the value has the documented defaults filled in, `provider` is resolved. */
export function checkVideoBody(type: VideoType, body: unknown): Checked {
  if (!isRecord(body)) return { ok: false, error: { field: 'body', message: 'request body must be a JSON object' } };
  for (const rule of RULES[type]) {
    const error = rule(body);
    if (error) return { ok: false, error };
  }
  const value: Record<string, unknown> = { ...body };
  if (type === 'generate') {
    for (const [k, def] of Object.entries(GENERATE_DEFAULTS)) value[k] = body[k] ?? def;
  }
  if (type === 'analyze' && value.tasks === undefined) value.tasks = ['transcribe', 'scenes', 'embed'];
  const pinned = typeof body.provider === 'string' && body.provider !== 'auto' ? body.provider : undefined;
  const lipsync = type === 'dub' && typeof body.lipsync_provider === 'string' && body.lipsync_provider !== 'auto';
  const provider = pinned ?? (lipsync ? (body.lipsync_provider as string) : AUTO_ENGINE[type]);
  return { ok: true, value, provider };
}
