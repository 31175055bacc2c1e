/**
 * media_upload: put an input (a photo, a clip) in the output bucket and get a URL a provider can fetch,
 * for an `image` or `video_url` argument. Present only with an s3 output store: a local folder has no
 * URL a provider can reach. Over stdio it reads `{path}` inside --input-dir (no input dir, no tool); over
 * HTTP (`presign`) the server reads no files and answers a presigned PUT plus the object's GET link.
 */
import { z } from 'zod';
import type { S3Store } from '../outputs/s3.js';
import { presignUpload, uploadFile, uploadTtl, UPLOAD_TYPES } from '../outputs/upload.js';
import { defineTool } from './define.js';
import type { ServerTool } from './handler.js';

export interface UploadToolDeps {
  s3: S3Store;
  /** `path`: read a file in inputDir (stdio); `presign`: sign a PUT for the client (HTTP). */
  mode: 'path' | 'presign';
  inputDir?: string;
  maxBytes: number;
  outputUrlTtl: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The tool, or undefined when it cannot exist here (stdio without an input folder). */
export function uploadTool(d: UploadToolDeps): ServerTool | undefined {
  const ttl = uploadTtl(d.outputUrlTtl);
  const days = Math.round((ttl / 86_400) * 10) / 10;
  if (d.mode === 'path') {
    const inputDir = d.inputDir;
    if (!inputDir) return undefined;
    return defineTool({
      name: 'media_upload',
      title: 'Upload an input file',
      description: `Upload an image, video or audio file from the server's input folder to the output bucket and get a URL (valid ${days} days) to pass as an image or video_url argument. Free.`,
      shape: {
        path: z.string().min(1).max(1024).describe('A file inside the input folder (relative to it, or absolute).'),
      },
      readOnly: false,
      idempotent: false,
      run: async (a, ctx) => {
        const u = await uploadFile(d.s3, {
          principal: ctx.principal,
          inputDir,
          path: a.path,
          maxBytes: d.maxBytes,
          ttl,
          signal: ctx.signal,
        });
        return {
          content: [
            {
              type: 'text',
              text: `Uploaded ${a.path} (${u.contentType}, ${u.bytes} bytes). Use this URL as an image or video_url argument; it works until ${iso(u.expiresAt)}:\n${u.url}`,
            },
            {
              type: 'resource_link',
              uri: u.url,
              name: a.path.split(/[/\\]/).pop() ?? 'upload',
              mimeType: u.contentType,
            },
          ],
          structuredContent: {
            url: u.url,
            key: u.key,
            content_type: u.contentType,
            bytes: u.bytes,
            expires_at: iso(u.expiresAt),
          },
        };
      },
    });
  }
  return defineTool({
    name: 'media_upload',
    title: 'Upload an input file',
    description: `Get a presigned PUT URL (valid 15 minutes) to upload an image, video or audio file to the output bucket, and the URL (valid ${days} days) it will have, to pass as an image or video_url argument. Free.`,
    shape: {
      filename: z.string().min(1).max(255).describe('The file name (for your reference; the stored name is random).'),
      content_type: z.enum(Object.keys(UPLOAD_TYPES) as [string, ...string[]]).describe('The file type.'),
      size: z.number().int().min(1).max(d.maxBytes).describe(`The exact size in bytes (at most ${d.maxBytes}).`),
    },
    readOnly: false,
    idempotent: false,
    run: async (a, ctx) => {
      const p = await presignUpload(d.s3, {
        principal: ctx.principal,
        contentType: a.content_type,
        size: a.size,
        maxBytes: d.maxBytes,
        ttl,
      });
      const headers = Object.entries(p.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      return {
        content: [
          {
            type: 'text',
            text: `Upload ${a.filename} with an HTTP PUT of exactly ${a.size} bytes to the put_url below, sending ${headers}; put_url works until ${iso(p.putExpiresAt)} (15 minutes). Then use get_url as an image or video_url argument; it works until ${iso(p.expiresAt)}.\nput_url: ${p.putUrl}\nget_url: ${p.getUrl}`,
          },
        ],
        structuredContent: {
          put_url: p.putUrl,
          method: 'PUT',
          headers: p.headers,
          get_url: p.getUrl,
          key: p.key,
          expires_at: iso(p.expiresAt),
          put_expires_at: iso(p.putExpiresAt),
        },
      };
    },
  });
}
