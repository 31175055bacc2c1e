/**
 * The Phaya job services as a data table, transcribed from ../shared/providers/phaya.md (the skill's
 * endpoint list): URL segment, create verb, status-word family, extra routes, request fields with
 * their documented enums/limits/defaults, and what a finished job yields.
 */
import type { Field, Fields } from './phaya-validate.js';

/**
 * Status-word families (phaya.md "Conventions"):
 *   upper5  image/music      PENDING | QUEUED | PROCESSING | COMPLETED | FAILED
 *   upper4  speech/subtitle  PENDING | PROCESSING | COMPLETED | FAILED
 *   lower   video/download/Seedream/Nano Banana  processing | completed | failed (| cancelled)
 */
export type Family = 'upper5' | 'upper4' | 'lower';

/** What a completed job's status response carries besides `status`. */
export type Output =
  | 'image' // image_url
  | 'nano' // image_url + image_urls[]
  | 'video' // video_url
  | 'veo' // video_url + origin_url + resolution
  | 'seedance' // video_url (+ audio_url when generate_audio)
  | 'music' // audio_url + audio_urls[2]
  | 'speech' // audio_url
  | 'character' // character_id
  | 'download'; // download_url

export interface Service {
  /** URL segment below /api/v1. */
  slug: string;
  verb: 'create' | 'generate';
  family: Family;
  output: Output;
  fields: Fields;
  cancel?: boolean;
  history?: boolean;
  callback?: boolean;
}

const str = (max?: number, req = false): Field => ({ t: 'str', req, max });
const lit = (values: readonly string[], def?: string): Field => ({ t: 'lit', values, def });
const urls = (max?: number, min?: number, req = false): Field => ({ t: 'list', item: { t: 'str' }, min, max, req });
const bool = (def?: boolean): Field => ({ t: 'bool', def });
const num = (def?: number): Field => ({ t: 'num', def });

const RATIOS_5 = ['1:1', '4:3', '3:4', '16:9', '9:16'] as const;

/** The 19 documented Gemini TTS voices; Zephyr is the default. */
export const VOICES: readonly string[] = (
  'Zephyr Algenib Algieba Aoede Autonoe Callirrhoe Despina Erinome Fenrir Iapetus Kore Laomedeia Leda Orus ' +
  'Sadaltager Schedar Umbriel Vindemiatrix Zubenelgenubi'
).split(' ');
export const TTS_LANGUAGES = ['en', 'th', 'ja', 'zh-CN', 'ko'] as const;

export const SERVICES: readonly Service[] = [
  {
    slug: 'text-to-image',
    verb: 'generate',
    family: 'upper5',
    output: 'image',
    history: true,
    fields: { prompt: str(1000, true), aspect_ratio: lit(RATIOS_5, '1:1') },
  },
  {
    slug: 'seedream',
    verb: 'create',
    family: 'lower',
    output: 'image',
    callback: true,
    fields: {
      prompt: str(2995, true),
      image_urls: urls(1),
      aspect_ratio: lit([...RATIOS_5, '2:3', '3:2', '21:9'], '1:1'),
      quality: lit(['basic', 'high'], 'basic'),
    },
  },
  {
    slug: 'nano-banana',
    verb: 'create',
    family: 'lower',
    output: 'nano',
    callback: true,
    fields: {
      prompt: str(20000, true),
      image_input: urls(14),
      aspect_ratio: lit(
        ['1:1', '1:4', '1:8', '2:3', '3:2', '3:4', '4:1', '4:3', '4:5', '5:4', '8:1', '9:16', '16:9', '21:9', 'auto'],
        '1:1',
      ),
      google_search: bool(false),
      resolution: lit(['1K', '2K', '4K'], '1K'),
      output_format: lit(['jpg', 'png'], 'jpg'),
    },
  },
  {
    slug: 'image-to-video',
    verb: 'create',
    family: 'lower',
    output: 'video',
    fields: {
      image_url: str(undefined, true),
      music_url: str(),
      duration: { t: 'int', ge: 1 },
      image_format: lit(['auto', 'jpeg', 'png', 'gif', 'webp'], 'auto'),
      zoom: {
        t: 'obj',
        fields: {
          mode: lit(
            [
              'center',
              'top_left',
              'top_right',
              'bottom_left',
              'bottom_right',
              'pan_right',
              'pan_left',
              'pan_up',
              'pan_down',
              'none',
            ],
            'center',
          ),
          speed: num(0.0015),
          max_scale: num(1.5),
          pan_speed: num(1.0),
        },
      },
    },
  },
  {
    slug: 'sora2-video',
    verb: 'create',
    family: 'lower',
    output: 'video',
    cancel: true,
    callback: true,
    fields: {
      prompt: str(2000, true),
      // "[1–5]": at least one image, so the list is required (this is image-to-video).
      image_urls: urls(5, 1, true),
      aspect_ratio: lit(['landscape', 'portrait', 'square'], 'landscape'),
      n_frames: lit(['5', '10', '15', '20'], '10'),
      remove_watermark: bool(),
      character_id_list: urls(),
    },
  },
  {
    slug: 'sora2-text-to-video',
    verb: 'create',
    family: 'lower',
    output: 'video',
    cancel: true,
    fields: {
      prompt: str(2000, true),
      aspect_ratio: lit(['landscape', 'portrait'], 'landscape'),
      n_frames: lit(['10', '15'], '10'),
      remove_watermark: bool(),
    },
  },
  {
    slug: 'sora2-character',
    verb: 'create',
    family: 'lower',
    output: 'character',
    cancel: true,
    fields: { character_file_url: str(undefined, true), character_prompt: str(5000), safety_instruction: str(5000) },
  },
  {
    slug: 'seedance-video',
    verb: 'create',
    family: 'lower',
    output: 'seedance',
    cancel: true,
    callback: true,
    fields: {
      prompt: { t: 'str', req: true, min: 3, max: 2500 },
      input_urls: urls(2),
      aspect_ratio: lit(['1:1', '21:9', '4:3', '3:4', '16:9', '9:16'], '16:9'),
      resolution: lit(['480p', '720p', '1080p'], '720p'),
      duration: lit(['4', '8', '12'], '8'),
      fixed_lens: bool(),
      generate_audio: bool(false),
    },
  },
  {
    slug: 'kling-motion-control',
    verb: 'create',
    family: 'lower',
    output: 'video',
    cancel: true,
    callback: true,
    fields: {
      prompt: str(2500),
      input_urls: urls(1, 1, true),
      video_urls: urls(1, 1, true),
      character_orientation: lit(['image', 'video'], 'video'),
      mode: lit(['720p', '1080p'], '720p'),
    },
  },
  {
    slug: 'veo31-video',
    verb: 'create',
    family: 'lower',
    output: 'veo',
    cancel: true,
    callback: true,
    fields: {
      prompt: str(2000, true),
      model: lit(['veo3_fast', 'veo3'], 'veo3_fast'),
      image_urls: urls(3),
      generation_type: lit(['TEXT_2_VIDEO', 'FIRST_AND_LAST_FRAMES_2_VIDEO', 'REFERENCE_2_VIDEO']),
      aspect_ratio: lit(['16:9', '9:16', 'Auto'], '16:9'),
      seeds: { t: 'int', ge: 10000, le: 99999 },
      enable_translation: bool(),
      watermark: str(50),
    },
  },
  {
    slug: 'text-to-music',
    verb: 'generate',
    family: 'upper5',
    output: 'music',
    history: true,
    fields: {
      prompt: str(2000, true),
      style: str(100),
      title: str(200),
      instrumental: bool(),
      model: lit(['V3', 'V3_5', 'V4', 'V5'], 'V4'),
      negative_tags: str(500),
      vocal_gender: lit(['m', 'f']),
      style_weight: num(0.5),
      weirdness_constraint: num(0.5),
      audio_weight: num(0.5),
    },
  },
  {
    slug: 'text-to-speech',
    verb: 'generate',
    family: 'upper4',
    output: 'speech',
    history: true,
    fields: {
      prompt: str(500000, true),
      voice: lit(VOICES, 'Zephyr'),
      slow: bool(),
      language: { t: 'lit', values: TTS_LANGUAGES, nullable: true },
    },
  },
  {
    slug: 'thai-subtitle',
    verb: 'generate',
    family: 'upper4',
    output: 'video',
    fields: {
      media_url: str(undefined, true),
      script: str(10000),
      animation: lit(['none', 'word_pop_fade'], 'none'),
      timing_offset_ms: { t: 'int', ge: -300, le: 300 },
    },
  },
  {
    slug: 'video-download',
    verb: 'create',
    family: 'lower',
    output: 'download',
    fields: {
      url: str(undefined, true),
      format: lit(['mp4', 'mp3', 'best'], 'mp4'),
      quality: lit(['best', '720p', '480p', '360p', 'audio'], 'best'),
    },
  },
];

export const SERVICE_BY_SLUG: ReadonlyMap<string, Service> = new Map(SERVICES.map((s) => [s.slug, s]));

/**
 * FFmpeg media utilities: `POST /media/<op>`, `GET /media/status/{job_id}`. Their bodies are not
 * documented, so any JSON object is accepted; each op's result field is the sandbox's guess by what
 * the op makes (lower-case status words, as for the other FFmpeg-backed service, image-to-video).
 */
export const MEDIA_OPS: Readonly<Record<string, 'video_url' | 'audio_url' | 'image_url' | 'text'>> = {
  'merge-video': 'video_url',
  'merge-audio-video': 'video_url',
  'merge-audio': 'audio_url',
  'overlay-gif': 'video_url',
  transcribe: 'text',
  'extract-last-frame': 'image_url',
};

/** Platforms yt-dlp handles that `/video-download/supported-platforms` lists (not documented: a guess). */
export const DOWNLOAD_PLATFORMS = ['youtube', 'tiktok', 'instagram', 'facebook', 'x', 'vimeo', 'dailymotion'] as const;
