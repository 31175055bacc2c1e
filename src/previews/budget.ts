/**
 * Preview blocks added to a job's result within one size budget: the whole serialized result stays at
 * most 900 KB (clients reject stdio results near 1 MiB). Blocks go in output order; one that does not
 * fit is left out with a note. Each output's entry in structuredContent says what its preview is.
 */
import type { OutputPreview } from './previews.js';

export const RESULT_BUDGET_BYTES = 900 * 1024;
/** Kept free for the notes of blocks left out. */
const NOTE_RESERVE = 4 * 1024;

interface ResultLike {
  content: ({ type: string } & Record<string, unknown>)[];
  structuredContent?: Record<string, unknown>;
  [key: string]: unknown;
}

const size = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

/** `result` with the previews' blocks added (a new object; `result` is not changed). */
export function withPreviews<T extends ResultLike>(
  result: T,
  previews: OutputPreview[],
  budget = RESULT_BUDGET_BYTES,
): T {
  if (!previews.length) return result;
  const notes: string[] = [];
  const info = new Map<number, Record<string, unknown>>();
  for (const p of previews) {
    if (p.note) {
      notes.push(`Output ${p.n}: ${p.note}.`);
      info.set(p.n, { preview_note: p.note });
    }
  }
  const out: T = { ...result, content: [...result.content] };
  const leftOut = (n: number): void => {
    const note = `preview left out: the result would pass ${Math.round(budget / 1024)} KB; see the output's URL`;
    notes.push(`Output ${n}: ${note}.`);
    info.set(n, { preview_note: note });
  };
  /** Output number of each preview block added, in the order they are in out.content. */
  const added: number[] = [];
  let total = size(withInfo(out, previews, info)) + NOTE_RESERVE;
  for (const p of previews) {
    if (!p.block) continue;
    const block = { type: p.block.type, data: p.block.data, mimeType: p.block.mimeType };
    const cost = size(block) + 1;
    if (total + cost > budget) {
      leftOut(p.n);
      continue;
    }
    total += cost;
    out.content.push(block);
    added.push(p.n);
    info.set(p.n, {
      preview: {
        type: p.block.type,
        mime_type: p.block.mimeType,
        bytes: Math.floor((p.block.data.length * 3) / 4),
        ...(p.coverOf ? { cover_output: p.coverOf } : {}),
      },
    });
  }
  let final = finish(out, previews, info, notes);
  // Never over the budget, whatever the estimate missed: drop preview blocks from the end, each with its note.
  while (size(final) > budget && added.length) {
    const n = added.pop() as number;
    const i = out.content.map((c) => c.type === 'image' || c.type === 'audio').lastIndexOf(true);
    out.content.splice(i, 1);
    leftOut(n);
    final = finish(out, previews, info, notes);
  }
  return final;
}

/** The result with its notes in the first text block and each output's preview entry. */
function finish<T extends ResultLike>(
  r: T,
  previews: OutputPreview[],
  info: Map<number, Record<string, unknown>>,
  notes: string[],
): T {
  const out: T = { ...r, content: [...r.content] };
  const first = out.content.findIndex((c) => c.type === 'text');
  if (notes.length && first >= 0) {
    const text = out.content[first] as { type: 'text'; text: string };
    out.content[first] = { ...text, text: `${text.text}\nPreviews: ${notes.join(' ').slice(0, 2000)}` };
  }
  return withInfo(out, previews, info);
}

/** structuredContent.outputs[n-1] carries its preview entry. */
function withInfo<T extends ResultLike>(
  r: T,
  previews: OutputPreview[],
  info: Map<number, Record<string, unknown>>,
): T {
  const sc = r.structuredContent;
  if (!sc || !Array.isArray(sc.outputs) || !previews.length) return r;
  const outputs = (sc.outputs as Record<string, unknown>[]).map((o, i) => ({ ...o, ...(info.get(i + 1) ?? {}) }));
  return { ...r, structuredContent: { ...sc, outputs } };
}
