import { describe, it, expect } from 'vitest';
import { withSandbox, type Json } from '../helpers/sandbox-http.js';
import { callApi as call, createJob as create, status } from '../helpers/phaya-wire.js';

describe('sandbox: Phaya cancel, history, unknown jobs', () => {
  it('cancels a video job only while processing; it then reports cancelled', async () => {
    await withSandbox({}, async (sb) => {
      const id = await create(sb, '/sora2-text-to-video/create', { prompt: 'p' });
      expect((await status(sb, 'sora2-text-to-video', id)).status).toBe('processing');
      const c = await call(sb, 'POST', `/sora2-text-to-video/cancel/${id}`);
      expect(c.status).toBe(200);
      expect(c.body).toEqual({ success: true, message: expect.any(String) as unknown });
      expect(await status(sb, 'sora2-text-to-video', id)).toEqual({ status: 'cancelled' });
      const again = await call(sb, 'POST', `/sora2-text-to-video/cancel/${id}`);
      expect(again.status).toBe(400);
      expect(again.body).toEqual({ success: false, message: 'Job cannot be cancelled: status is cancelled' });

      const done = await create(sb, '/veo31-video/create', { prompt: 'p' });
      for (let i = 0; i < 3; i++) await status(sb, 'veo31-video', done);
      const late = await call(sb, 'POST', `/veo31-video/cancel/${done}`);
      expect(late.status).toBe(400);
      expect(late.body.success).toBe(false);
      expect((await call(sb, 'POST', `/veo31-video/cancel/${id}`)).body).toEqual({ detail: 'Job not found' });
      for (const svc of ['sora2-video', 'sora2-character', 'seedance-video', 'kling-motion-control']) {
        expect((await call(sb, 'POST', `/${svc}/cancel/nope`)).status).toBe(404);
      }
      expect((await call(sb, 'POST', `/text-to-image/cancel/${id}`)).body).toEqual({ detail: 'Not Found' });
    });
  });

  it('answers unknown job ids and other services\' ids with 404 {"detail": "Job not found"}, without advancing them', async () => {
    await withSandbox({ pollsToComplete: 2 }, async (sb) => {
      const id = await create(sb, '/text-to-image/generate', { prompt: 'x' });
      const other = await call(sb, 'GET', `/seedream/status/${id}`);
      expect(other.status).toBe(404);
      expect(other.body).toEqual({ detail: 'Job not found' });
      expect((await call(sb, 'GET', '/text-to-image/status/00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await status(sb, 'text-to-image', id)).status).toBe('PENDING');
    });
  });

  it('lists history newest first, limited, without counting polls', async () => {
    await withSandbox({ pollsToComplete: 1 }, async (sb) => {
      const a = await create(sb, '/text-to-image/generate', { prompt: 'first' });
      const b = await create(sb, '/text-to-image/generate', { prompt: 'second' });
      await create(sb, '/text-to-speech/generate', { prompt: 'other service' });
      await status(sb, 'text-to-image', a);
      const h = await call(sb, 'GET', '/text-to-image/history?limit=1');
      expect(h.body.total).toBe(2);
      expect(h.body.jobs).toEqual([
        { job_id: b, prompt: 'second', created_at: expect.any(String) as unknown, status: 'PENDING' },
      ]);
      const all = (await call(sb, 'GET', '/text-to-image/history')).body.jobs as Json[];
      expect(all.map((j) => j.job_id)).toEqual([b, a]);
      expect(all[1]).toMatchObject({ status: 'COMPLETED', image_url: expect.any(String) as unknown });
      expect((await call(sb, 'GET', '/text-to-music/history')).body).toEqual({ success: true, jobs: [], total: 0 });
      expect((await call(sb, 'GET', '/text-to-speech/history')).body.total).toBe(1);
    });
  });
});
