/**
 * Walks over untrusted JSON without recursion: a document nested 20,000 deep must give an error naming
 * where, never "Maximum call stack size exceeded" (from here, from JSON.stringify or from a listing).
 */

/** Deepest nesting a catalogue or price overlay may have; real ones stay under 12. */
export const MAX_JSON_DEPTH = 64;

/** Every unfilled value of an import-openapi draft carries this marker; the loader refuses any string with it. */
export const PLACEHOLDER = 'FILL IN:';

interface Frame {
  value: unknown;
  key: string | number | undefined;
  parent: Frame | undefined;
  depth: number;
}

function pathOf(f: Frame): (string | number)[] {
  const out: (string | number)[] = [];
  for (let at: Frame | undefined = f; at?.key !== undefined; at = at.parent) out.push(at.key);
  return out.reverse();
}

/** Visit every value in document order, depth first; `visit` returning true stops and gives its path. */
function walk(
  doc: unknown,
  visit: (value: unknown, depth: number) => boolean,
  maxDepth = Infinity,
): (string | number)[] | undefined {
  const stack: Frame[] = [{ value: doc, key: undefined, parent: undefined, depth: 0 }];
  while (stack.length) {
    const f = stack.pop()!;
    if (visit(f.value, f.depth)) return pathOf(f);
    const v = f.value;
    if (v === null || typeof v !== 'object' || f.depth >= maxDepth) continue;
    const entries: [string | number, unknown][] = Array.isArray(v) ? [...v.entries()] : Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--)
      stack.push({ value: entries[i][1], key: entries[i][0], parent: f, depth: f.depth + 1 });
  }
  return undefined;
}

/** The path of the first value nested deeper than `max` levels, or undefined when the document is shallower. */
export function tooDeepAt(doc: unknown, max = MAX_JSON_DEPTH): (string | number)[] | undefined {
  return walk(doc, (v, depth) => depth > max && v !== null && typeof v === 'object', max + 1);
}

/** How deep a value nests (a scalar is 0), counted no further than `limit`. */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  walk(
    value,
    (v, depth) => {
      if (v !== null && typeof v === 'object') deepest = Math.max(deepest, depth + 1);
      return deepest > limit;
    },
    limit + 1,
  );
  return deepest;
}

/** The first placeholder left in a catalogue document, as a JSON pointer and its text. */
export function findPlaceholder(doc: unknown): { path: (string | number)[]; text: string } | undefined {
  let text = '';
  const path = walk(doc, (v) => {
    if (typeof v !== 'string' || !v.includes(PLACEHOLDER)) return false;
    text = v;
    return true;
  });
  return path && { path, text };
}
