/**
 * The result budget's last guard: when blocks that fitted the estimate still leave the result over the
 * budget, each block dropped gets its note in the text and its output's structured entry says why.
 */
import { describe, expect, it } from 'vitest';
import { withPreviews } from '../../src/previews/budget.js';

describe('withPreviews', () => {
  it('a block dropped by the final guard gets a note and a preview_note, not a stale preview entry', () => {
    const data = Buffer.alloc(30_000).toString('base64');
    const result = {
      content: [{ type: 'text', text: 'done' }],
      structuredContent: { outputs: [{ url: 'https://x/1' }, { url: 'https://x/2' }, { url: 'https://x/3' }] },
    };
    const previews = [
      { n: 1, block: { type: 'image' as const, data, mimeType: 'image/jpeg' } },
      { n: 2, block: { type: 'image' as const, data, mimeType: 'image/jpeg' } },
      { n: 3, note: '\u0001'.repeat(1500) },
    ];
    const one = Buffer.byteLength(JSON.stringify({ type: 'image', data, mimeType: 'image/jpeg' }));
    // Output 3's note escapes to 9 KB of JSON in the text, more than the 4 KB kept for notes: both blocks
    // fit the estimate, the result with both does not.
    const base = Buffer.byteLength(JSON.stringify(withPreviews(result, [previews[2]])));
    const budget = base + 2 * (one + 1) - 1;
    const r = withPreviews(result, previews, budget);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(budget);
    const images = r.content.filter((c) => c.type === 'image');
    const outs = r.structuredContent.outputs as Record<string, unknown>[];
    expect(images.length).toBeLessThan(2);
    const dropped = images.length === 1 ? 2 : 1;
    expect(outs[dropped - 1].preview).toBeUndefined();
    expect(outs[dropped - 1].preview_note).toMatch(/preview left out/);
    expect((r.content[0] as { text: string }).text).toContain(`Output ${dropped}: preview left out`);
  });
});
