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
import { checkPrice, pointer, zodFail, type LoadedCatalogue } from './load.js';

export const PriceOverlay = z.object({ $schema: z.string().optional(), prices: z.record(PriceExpr) }).strict();

export function loadPriceOverlay(file: string): z.infer<typeof PriceOverlay> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? `not valid JSON (${(e as Error).message})`;
    throw new StartupError(`${file}: /: cannot read the price overlay: ${why}`);
  }
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
  const overlay = loadPriceOverlay(file);
  const byTool = new Map<string, { c: LoadedCatalogue; op: Operation }>(
    cats.flatMap((c) => c.operations.map((op) => [`${c.provider}_${op.id}`, { c, op }] as const)),
  );
  for (const [tool, price] of Object.entries(overlay.prices)) {
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
      const price = overlay.prices[`${c.provider}_${op.id}`];
      return price ? { ...op, price } : op;
    }),
  }));
}
