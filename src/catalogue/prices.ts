/**
 * Price overlay: a JSON file mapping tool names to price expressions, for providers whose catalogue has
 * no prices (Media.io). Validated like a catalogue; a bad file stops start-up naming file and pointer.
 *
 *   { "prices": { "mediaio_t2i_imagen_4": { "credits": 4 }, "mediaio_i2v_kling_v3_0": { "table": ... } } }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { StartupError } from '../errors.js';
import { PriceExpr, type Operation } from './format.js';
import { checkPrice, detachPrice, pointer, readJson, zodFail, type LoadedCatalogue } from './load.js';

export const PriceOverlay = z.object({ $schema: z.string().optional(), prices: z.record(PriceExpr) }).strict();

export function loadPriceOverlay(file: string): z.infer<typeof PriceOverlay> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new StartupError(`${file}: /: cannot read the price overlay: ${why}`);
  }
  const doc = readJson(text, file);
  const parsed = PriceOverlay.safeParse(doc);
  if (!parsed.success) zodFail(file, parsed.error);
  return parsed.data;
}

/**
 * Catalogues with the overlay's prices applied. Unknown tool names and read-only tools are refused;
 * `elsewhere` names tools of catalogues not loaded (providers without a key), whose prices are ignored.
 */
export function applyPriceOverlay(
  cats: readonly LoadedCatalogue[],
  file: string,
  elsewhere: ReadonlySet<string> = new Set(),
): LoadedCatalogue[] {
  // A Map: a tool name is never looked up on an object's prototype ("__proto__", "constructor").
  const overlay = new Map(Object.entries(loadPriceOverlay(file).prices));
  const byTool = new Map<string, { c: LoadedCatalogue; op: Operation }>(
    cats.flatMap((c) => c.operations.map((op) => [`${c.provider}_${op.id}`, { c, op }] as const)),
  );
  for (const [tool, price] of overlay) {
    const hit = byTool.get(tool);
    if (!hit && elsewhere.has(tool)) continue;
    if (!hit) throw new StartupError(`${file}: ${pointer(['prices', tool])}: no tool named "${tool}"`);
    if (hit.op.readOnly)
      throw new StartupError(`${file}: ${pointer(['prices', tool])}: "${tool}" is a free read-only tool`);
    checkPrice(file, ['prices', tool], hit.op, price);
  }
  return cats.map((c) => ({
    ...c,
    operations: c.operations.map((op) => {
      const price = overlay.get(`${c.provider}_${op.id}`);
      return price ? { ...op, price: detachPrice(price) } : op;
    }),
  }));
}
