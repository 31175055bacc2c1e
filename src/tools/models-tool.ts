/**
 * models: the model families offered across providers, each with the tools that serve it and their
 * price for the given common arguments where known, cheapest first, so an agent can pick a route; and
 * per tool, how many of the caller's own jobs of it failed in the last 24 h (from our ledger).
 */
import { z } from 'zod';
import { priceCall, type Quote } from '../guard/price.js';
import type { ToolSpec } from './build.js';
import { defineTool } from './define.js';
import { dropNulls } from './validate.js';
import type { ServerTool } from './handler.js';
import type { Store, ToolOutcome } from '../store/store.js';
import { priceText, quoteText } from './paid.js';

/** Display names of the families we know; any other model tag becomes a family of its own. */
const NAMES: Record<string, string> = {
  veo: 'Google Veo 3.1',
  kling: 'Kling',
  seedream: 'Seedream',
  seedance: 'Seedance',
  'nano-banana': 'Nano Banana',
  banana: 'Nano Banana',
  sora: 'Sora 2',
  wan: 'Wan',
  vidu: 'Vidu',
  minimax: 'Hailuo (MiniMax)',
  hailuo: 'Hailuo (MiniMax)',
  imagen: 'Imagen 4',
  suno: 'Suno',
  soul: 'Soul Character',
  'z-image': 'Z-Image',
  'gemini-tts': 'Gemini TTS',
};
const ALIASES: Record<string, string> = { banana: 'nano-banana', minimax: 'hailuo' };
const KINDS = ['image', 'video', 'audio', 'music', 'speech', 'chat', 'embedding', 'text'];
const GENERIC = new Set([...KINDS, 'account', 'subtitles', 'download', 'avatar', 'lipsync', 'dub', 'analysis']);

export function familiesOf(t: ToolSpec): string[] {
  return t.op.tags
    .filter((tag) => !GENERIC.has(tag) && !tag.includes('-to-') && tag !== t.catalogue.provider && !/^motion/.test(tag))
    .map((tag) => ALIASES[tag] ?? tag);
}

/**
 * Defaults of the tool plus the caller's common arguments that this tool accepts and that fit it, with
 * nulls read as the tool's validator reads them (dropNulls: "not given" unless the field is nullable).
 */
function argsFor(t: ToolSpec, common: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of t.op.params) if (p.default !== undefined) out[p.name] = p.default;
  for (const [k, v] of Object.entries(dropNulls(t.schema, common) as Record<string, unknown>)) {
    const field = t.schema.shape[k];
    if (field && field.safeParse(v).success) out[k] = v;
  }
  return out;
}

function sortKey(q: Quote): number {
  return q.kind === 'unknown' ? Number.POSITIVE_INFINITY : q.credits;
}

/** How far back the health line looks. */
export const HEALTH_WINDOW_MS = 24 * 3_600_000;

/** "3 of 40 failed in the last 24 h"; nothing when the tool had no jobs then. */
export function healthText(o: ToolOutcome | undefined): string | undefined {
  if (!o || o.total === 0) return undefined;
  return `${o.failed} of ${o.total} failed in the last 24 h`;
}

/**
 * `store`: where observed prices of tools with unknown prices are read, and the jobs' outcomes.
 * `noProvider`: the note said instead of an empty answer when no provider is configured (tools/no-provider.ts).
 */
export function modelsTool(
  tools: readonly ToolSpec[],
  store?: Store,
  now: () => number = Date.now,
  noProvider?: string,
): ServerTool {
  return defineTool({
    name: 'models',
    title: 'Model families',
    description:
      'Model families across providers with the tools serving each and their price for given arguments, cheapest first.',
    shape: {
      family: z.string().max(40).optional().describe('e.g. kling, veo, seedream'),
      kind: z.enum(KINDS as [string, ...string[]]).optional(),
      arguments: z.record(z.unknown()).default({}).describe('Common arguments to price with, e.g. {"duration": "5s"}.'),
    },
    readOnly: true,
    idempotent: true,
    run: async (a, ctx) => {
      // The caller's own jobs only: one principal learns nothing of another's.
      const outcomes = store
        ? await store.toolOutcomes({ since: now() - HEALTH_WINDOW_MS, principal: ctx.principal })
        : [];
      const health = new Map(outcomes.map((o) => [o.tool, o]));
      const families = new Map<string, { tool: ToolSpec; quote?: Quote; text?: string }[]>();
      for (const t of tools) {
        if (a.kind && !t.op.tags.includes(a.kind)) continue;
        for (const f of familiesOf(t)) {
          if (a.family && f !== (ALIASES[a.family] ?? a.family)) continue;
          const args = argsFor(t, a.arguments);
          const quote = t.paid && t.op.price ? priceCall(t.op.price, args) : undefined;
          const text = quote?.kind === 'unknown' && store ? await priceText(store, t, args, quote) : undefined;
          families.set(f, [...(families.get(f) ?? []), { tool: t, quote, text }]);
        }
      }
      const rows = [...families.entries()]
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([family, list]) => ({
          family,
          name: NAMES[family] ?? family,
          tools: list
            .sort((p, q) => (p.quote ? sortKey(p.quote) : 0) - (q.quote ? sortKey(q.quote) : 0))
            .map(({ tool, quote, text }) => {
              const h = health.get(tool.name);
              const said = healthText(h);
              return {
                tool: tool.name,
                provider: tool.catalogue.provider,
                title: tool.title,
                kinds: tool.op.tags.filter((x) => KINDS.includes(x)),
                price: text ?? (quote ? quoteText(quote, tool.catalogue.currency) : 'free'),
                ...(quote?.kind === 'unknown' ? { price_reason: quote.reason } : {}),
                ...(h && said ? { health: { jobs: h.total, failed: h.failed, text: said } } : {}),
              };
            }),
        }));
      const line = (t: (typeof rows)[number]['tools'][number]): string =>
        `${t.tool} (${t.price}${t.health ? `; ${t.health.text}` : ''})`;
      const text = rows.map((r) => `${r.name}: ${r.tools.map(line).join(', ')}`).join('\n');
      return {
        content: [{ type: 'text', text: text || noProvider || 'No model family matches.' }],
        structuredContent: { families: rows, ...(noProvider ? { no_provider: noProvider } : {}) },
      };
    },
  });
}
