/**
 * ph0ny as documented: webhook_url on every create, provider on dub, and per-engine keys (BYOK) sent as
 * X-Provider-Key-* headers from named environment variables; an engine whose variable is missing is
 * refused before consent and before any request, with a message naming the variable.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalogueFile } from '../../src/catalogue/load.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { ROOT } from '../helpers/paths.js';
import { callConfirmed, callTool, sandboxed, type ListedSchema } from '../helpers/sandboxed.js';

const HEYGEN_KEY = 'hg-caller-own-key-123456';
let sandbox: Sandbox;
let client: Client;
let close: () => Promise<void>;
let schemas: Map<string, ListedSchema>;

beforeAll(async () => {
  ({ sandbox, client, close, schemas } = await sandboxed(
    ['--toolsets', 'ph0ny', '--tools', 'ph0ny_video_analyze'],
    { PH0NY_HEYGEN_KEY: HEYGEN_KEY },
    { pollsToComplete: 1 },
  ));
});
afterAll(() => close());

const call = (name: string, args: Record<string, unknown>) => callTool(client, name, args);
const paid = (name: string, args: Record<string, unknown>) => callConfirmed(client, name, args);
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;
const MP4 = 'https://uploads.example.com/clip.mp4';

describe('ph0ny documented fields', () => {
  it('webhook_url on all six create tools (five operations), provider on video_dub', () => {
    const creates = [...schemas.keys()].filter((n) => n.startsWith('ph0ny_video_'));
    expect(creates.sort()).toEqual([
      'ph0ny_video_analyze',
      'ph0ny_video_avatar',
      'ph0ny_video_avatar_tts',
      'ph0ny_video_dub',
      'ph0ny_video_generate',
      'ph0ny_video_lipsync',
    ]);
    for (const n of creates) expect(schemas.get(n)?.properties?.webhook_url, n).toMatchObject({ format: 'uri' });
    expect(schemas.get('ph0ny_video_dub')?.properties?.provider).toMatchObject({ type: 'string' });
  });

  it('every create with webhook_url names it as its job.webhookParam (the hook the server may send)', () => {
    const cat = loadCatalogueFile(join(ROOT, 'catalogues/ph0ny.json'));
    const creates = cat.operations.filter((o) => o.job);
    expect(creates.length).toBe(6);
    for (const op of creates) {
      expect(
        op.params.some((p) => p.name === 'webhook_url'),
        op.id,
      ).toBe(true);
      expect(op.job?.webhookParam, op.id).toBe('webhook_url');
    }
    expect(cat.webhooks?.secretEnv).toBe('PH0NY_WEBHOOK_SECRET');
    expect(cat.notes?.join(' ')).not.toMatch(/does not receive webhooks/);
  });

  it('webhook_url is passed through as given', async () => {
    sandbox.reset();
    const r = await paid('ph0ny_video_generate', { prompt: 'a wave', webhook_url: 'https://hooks.example/v' });
    expect(r.isError, text(r)).toBeFalsy();
    const sent = sandbox.stats().requests.find((q) => q.path.endsWith('/video/generate'));
    expect(sent?.body).toMatchObject({ webhook_url: 'https://hooks.example/v' });
  });
});

describe('per-engine keys (BYOK)', () => {
  it.each([
    [
      'ph0ny_video_lipsync',
      { video_url: MP4, audio_url: 'https://x.example/a.mp3', provider: 'sync-labs' },
      'PH0NY_SYNC_LABS_KEY',
    ],
    [
      'ph0ny_video_dub',
      { video_url: MP4, target_language: 'es-ES', lipsync_provider: 'sync-labs' },
      'PH0NY_SYNC_LABS_KEY',
    ],
    ['ph0ny_video_analyze', { video_url: MP4, provider: 'twelve-labs' }, 'PH0NY_TWELVE_LABS_KEY'],
  ])(
    '%s without its engine key is refused before consent, naming the variable, zero requests',
    async (tool, args, v) => {
      sandbox.reset();
      const r = await call(tool, args);
      expect(r.isError).toBe(true);
      expect(r.structuredContent).toMatchObject({ code: 'NOT_CONFIGURED', variable: v });
      expect(text(r)).toMatch(new RegExp(`^NOT_CONFIGURED: .*set ${v} \\(sent as X-Provider-Key-`));
      expect(sandbox.stats().total).toBe(0);
    },
  );

  it('with its variable set, the header is sent (the sandbox refuses without it) and never shown', async () => {
    sandbox.reset();
    const r = await paid('ph0ny_video_avatar', {
      image_url: 'https://x.example/h.jpg',
      audio_url: 'https://x.example/a.mp3',
      provider: 'heygen',
    });
    expect(r.isError, text(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: 'pending' });
    expect(JSON.stringify(r)).not.toContain(HEYGEN_KEY);
    const w = await call('jobs_wait', { job_id: (r.structuredContent as { job_id: string }).job_id, wait_seconds: 10 });
    expect(w.structuredContent).toMatchObject({ status: 'succeeded' });
    expect(JSON.stringify(w)).not.toContain(HEYGEN_KEY);
  });

  it('engines that are not BYOK need no variable', async () => {
    sandbox.reset();
    const r = await paid('ph0ny_video_lipsync', { video_url: MP4, audio_url: 'https://x.example/a.mp3' });
    expect(r.isError, text(r)).toBeFalsy();
  });
});
