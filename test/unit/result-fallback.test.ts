/** The fallback for a succeeded job whose declared result fields yield nothing, for every provider shape. */
import { describe, expect, it } from 'vitest';
import { RAW_RESULT, succeededOutputs } from '../../src/jobs/results.js';

describe('succeededOutputs', () => {
  it('declared fields win: no scan, no excerpt', () => {
    const data = { status: 'completed', video_url: 'https://cdn.example/a.mp4', other: 'https://cdn.example/b.png' };
    expect(succeededOutputs(data, { results: [{ field: 'video_url', kind: 'video' }] })).toEqual([
      { url: 'https://cdn.example/a.mp4', kind: 'video', mimeType: 'video/mp4' },
    ]);
  });

  it('Phaya-like: declared field empty, URLs elsewhere in the status response are found with kinds', () => {
    const data = {
      status: 'completed',
      video_url: null,
      output: { files: ['https://cdn.example/x/clip.webm?sig=1', 'https://cdn.example/a.wav'], thumb: 'ftp://no' },
      doc: 'https://cdn.example/readme',
    };
    const got = succeededOutputs(data, { results: [{ field: 'video_url', kind: 'video' }] });
    expect(got.filter((o) => o.kind !== RAW_RESULT)).toEqual([
      { url: 'https://cdn.example/x/clip.webm?sig=1', kind: 'video', mimeType: 'video/webm', source: 'scan' },
      { url: 'https://cdn.example/a.wav', kind: 'audio', mimeType: 'audio/wav', source: 'scan' },
      { url: 'https://cdn.example/readme', kind: 'file', source: 'scan' },
    ]);
    expect(got.at(-1)).toMatchObject({ kind: RAW_RESULT, source: 'scan' });
  });

  it('Media.io object shape: scans only the result part; the excerpt is short', () => {
    const big = 'z'.repeat(2000);
    const data = { task_id: 't', status: 'completed', result: { video: { url: 'https://m.example/v.mp4' }, big } };
    const got = succeededOutputs(data, { results: [{ field: 'result[].preview', kind: 'video' }] });
    expect(got[0]).toMatchObject({ url: 'https://m.example/v.mp4', kind: 'video' });
    const raw = got.find((o) => o.kind === RAW_RESULT);
    expect(raw?.url.startsWith('{"video":{"url":"https://m.example/v.mp4"}')).toBe(true);
    expect(raw?.url.length).toBeLessThan(460);
    expect(raw?.url).toMatch(/characters\)$/);
  });

  it('no URL at all: the excerpt alone, so the answer never just says "no output URL"', () => {
    const got = succeededOutputs(
      { status: 'completed', result: { note: 'done' } },
      {
        results: [{ field: 'result[].preview', kind: 'image' }],
      },
    );
    expect(got).toEqual([{ url: '{"note":"done"}', kind: RAW_RESULT, source: 'scan' }]);
  });
});
