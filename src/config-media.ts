/**
 * The media part of the configuration: the background worker, the output store (a folder or an
 * S3-compatible bucket), uploads of inputs and webhook hints. Its zod fields, flags and where each value
 * comes from. Read only by config.ts, which owns process.env. S3 credentials stay in the environment
 * snapshot (config.env) and are read where the bucket client is made, never copied into the config.
 */
import { z } from 'zod';
import type { FieldTypes } from './config-hosting.js';
import { mediaHostSource } from './views/csp.js';

/** `local`, or `s3://BUCKET[/PREFIX]` (bucket names as S3 allows them; the prefix without slashes at its ends). */
export type OutputStoreSetting = { kind: 'local' } | { kind: 's3'; bucket: string; prefix: string };

const outputStore = z.string().transform((s, ctx): OutputStoreSetting => {
  const v = s.trim();
  if (v === 'local') return { kind: 'local' };
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(v);
  const prefix = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (!m || prefix.split('/').some((p) => p === '.' || p === '..') || /[\p{Cc}\\]/u.test(prefix)) {
    ctx.addIssue({ code: 'custom', message: `expected local or s3://BUCKET[/PREFIX], got "${s}"` });
    return z.NEVER;
  }
  return { kind: 's3', bucket: m[1], prefix };
});

const publicUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'expected an http(s) URL')
  .transform((u) => u.replace(/\/+$/, ''));

/** One media host, validated as csp.ts turns it into a CSP source (one rule for both). */
const viewHost = z.string().superRefine((h, ctx) => {
  if (mediaHostSource(h) === undefined)
    ctx.addIssue({
      code: 'custom',
      message: `expected a host name or origin such as cdn.example.com, *.example.com:8443 or https://cdn.example.com/ (no path), got ${JSON.stringify(h)}`,
    });
});

export function mediaFields(t: FieldTypes) {
  return {
    /** The background worker in `serve` (stdio and HTTP); one-shot commands never run it. */
    worker: t.bool.default(true),
    workerConcurrency: t.positiveInt.max(64).default(4),
    /** How long a worker's lease on a job lasts (ms): a worker that dies loses its jobs when it runs out. */
    workerLeaseMs: t.positiveInt.min(500).max(3_600_000).default(60_000),
    outputStore: outputStore.default('local'),
    /** Copy every output of a succeeded job into the output store; default: on with s3, off with local. */
    keepOutputs: t.bool.optional(),
    /** Lifetime of a presigned link, seconds: default 24 h, at most 7 days (SigV4's own limit). */
    outputUrlTtl: t.positiveInt.max(7 * 86_400).default(86_400),
    /** Folder media_upload may read from over stdio; no folder, no tool. */
    inputDir: t.absolutePath.optional(),
    uploadMaxMb: t.positiveInt.max(10_000).default(100),
    /** The server's public base URL (HTTP): webhooks point back at `<publicUrl>/hooks/<capability>`. */
    publicUrl: publicUrl.optional(),
    s3Region: z.string().min(1).default('us-east-1'),
    s3Endpoint: z.string().url().optional(),
    s3ForcePathStyle: t.bool.default(false),
    /** Result hosts the views may load media from, beside the output store and the providers' own origins. */
    viewMediaHosts: t.list.pipe(z.array(viewHost)).default(''),
    /** A succeeded job's images (and video covers) as inline thumbnails, short audio inline; or none. */
    previews: z.enum(['thumbnail', 'off']).default('thumbnail'),
  };
}

export const MEDIA_FLAGS = {
  'no-worker': { type: 'boolean' },
  'worker-concurrency': { type: 'string' },
  'output-store': { type: 'string' },
  'keep-outputs': { type: 'boolean' },
  'no-keep-outputs': { type: 'boolean' },
  'output-url-ttl': { type: 'string' },
  'input-dir': { type: 'string' },
  'public-url': { type: 'string' },
  'view-media-hosts': { type: 'string' },
  previews: { type: 'string' },
} as const;

type Flags = Partial<Record<keyof typeof MEDIA_FLAGS, string | boolean>>;

export const MEDIA_USAGE = `  --no-worker              no background worker: jobs move only while a client polls them (MEDIAGEN_WORKER=0)
  --worker-concurrency N   background status polls at once (default 4; MEDIAGEN_WORKER_CONCURRENCY)
  --output-store STORE     local (default: the --output-dir folder) | s3://BUCKET[/PREFIX], an S3-compatible
                           bucket (MEDIAGEN_OUTPUT_STORE; credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                           AWS_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL; MEDIAGEN_S3_FORCE_PATH_STYLE=1
                           for MinIO-style endpoints)
  --keep-outputs           copy every output of a succeeded job into the output store (MEDIAGEN_KEEP_OUTPUTS;
                           default on with s3, off with local; --no-keep-outputs turns it off)
  --output-url-ttl S       lifetime of a presigned output or upload link in seconds (default 86400, at most 604800)
  --input-dir DIR          folder media_upload may read over stdio (MEDIAGEN_INPUT_DIR; files up to
                           MEDIAGEN_UPLOAD_MAX_MB, default 100); media_upload exists only with an s3 store:
                           a local folder has no URL a provider can fetch
  --public-url URL         this server's public URL (HTTP): ph0ny creates get webhook_url=URL/hooks/<capability>
                           as a poll hint (MEDIAGEN_PUBLIC_URL)
  --view-media-hosts h,... hosts the MCP App views may show media from besides the output store and each
                           provider's API origin: the CDNs providers answer result URLs on, e.g.
                           cdn.example.com or https://*.example.com (MEDIAGEN_VIEW_MEDIA_HOSTS)
  --previews MODE          thumbnail (default): a succeeded job's images and video covers come back as inline
                           JPEG thumbnails (long side <= 768 px, <= 300 KB each), audio <= 30 s and <= 600 KB
                           inline, the whole result <= 900 KB | off (MEDIAGEN_PREVIEWS; per principal: previews)
`;

/** Flags beat env. */
export function mediaRaw(f: Flags, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const pick = <T>(...v: (T | undefined)[]): T | undefined => v.find((x) => x !== undefined);
  return {
    worker: f['no-worker'] ? false : env.MEDIAGEN_WORKER,
    workerConcurrency: pick(f['worker-concurrency'], env.MEDIAGEN_WORKER_CONCURRENCY),
    workerLeaseMs: env.MEDIAGEN_WORKER_LEASE_MS,
    outputStore: pick(f['output-store'], env.MEDIAGEN_OUTPUT_STORE),
    keepOutputs: f['no-keep-outputs'] ? false : pick<boolean | string>(f['keep-outputs'], env.MEDIAGEN_KEEP_OUTPUTS),
    outputUrlTtl: pick(f['output-url-ttl'], env.MEDIAGEN_OUTPUT_URL_TTL),
    inputDir: pick(f['input-dir'], env.MEDIAGEN_INPUT_DIR),
    uploadMaxMb: env.MEDIAGEN_UPLOAD_MAX_MB,
    publicUrl: pick(f['public-url'], env.MEDIAGEN_PUBLIC_URL),
    s3Region: pick(env.AWS_REGION, env.AWS_DEFAULT_REGION),
    s3Endpoint: pick(env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL),
    s3ForcePathStyle: env.MEDIAGEN_S3_FORCE_PATH_STYLE,
    viewMediaHosts: pick(f['view-media-hosts'], env.MEDIAGEN_VIEW_MEDIA_HOSTS),
    previews: pick(f.previews, env.MEDIAGEN_PREVIEWS),
  };
}

/** Whether outputs are kept: the setting, else on with an s3 store and off with a local folder. */
export function keepsOutputs(c: { keepOutputs?: boolean; outputStore: OutputStoreSetting }): boolean {
  return c.keepOutputs ?? c.outputStore.kind === 's3';
}
