/** quote and spend_report: read-only views of prices, consent, caps and the spend ledger. */
import { z } from 'zod';
import type { Budget } from '../guard/budget.js';
import type { ConsentSettings } from '../guard/policy.js';
import { priceCall } from '../guard/price.js';
import { MediagenError } from '../errors.js';
import type { Store } from '../store/store.js';
import { round } from '../guard/price.js';
import { utcDay } from '../guard/budget.js';
import type { ToolSpec } from './build.js';
import { BALANCE_BUSY, isBusy } from './balance.js';
import { defineTool } from './define.js';
import type { ServerTool } from './handler.js';
import { consentFor, withObserved } from './paid.js';
import { splitArgs } from './handler.js';
import { validateArgs } from './validate.js';
import { capReserve, observedFigures } from '../guard/observed-figures.js';
import type { ObservedPrice } from '../store/store.js';

/** What the guard makes of the observations: what a cap reserves, and whether consent may trust them. */
function observedUse(o: ObservedPrice, fallback: number | undefined): Record<string, unknown> {
  const f = observedFigures(o);
  return {
    cap_reserves: capReserve(o, fallback) ?? null,
    trusted_figure: f?.trusted ?? null,
    outliers_set_aside: f?.outliers ?? 0,
  };
}

export interface AccountToolDeps {
  tools: ReadonlyMap<string, ToolSpec>;
  store: Store;
  budget: Budget;
  consentSettings: ConsentSettings;
  /** Stateless HTTP: consent can only go by confirm_token (the client cannot be asked mid-request). */
  tokenOnly?: boolean;
  now: () => number;
  balance: (provider: string, signal?: AbortSignal) => Promise<string | undefined>;
}

export function accountTools(d: AccountToolDeps): ServerTool[] {
  const quote = defineTool({
    name: 'quote',
    title: 'Price a call',
    description: 'Price a tool call without running it: credits, whether consent is needed, caps left, balance.',
    shape: {
      tool: z.string().min(1).max(64),
      arguments: z.record(z.unknown()).default({}),
    },
    readOnly: true,
    idempotent: true,
    run: async (a, ctx) => {
      const tool = d.tools.get(a.tool);
      if (!tool) throw new MediagenError('NOT_FOUND', `Unknown tool "${a.tool}".`);
      const { sent } = splitArgs(validateArgs(tool, a.arguments));
      if (!tool.paid) {
        return {
          content: [{ type: 'text', text: `${tool.name} is free (read-only).` }],
          structuredContent: { tool: tool.name, price: { kind: 'free', credits: 0 }, consent: { needed: false } },
        };
      }
      const cat = tool.catalogue;
      const q = priceCall(tool.op.price ?? { unknown: 'no price in the catalogue' }, sent);
      const { seen: observed, decision: consent } = await consentFor(d, tool, sent, q);
      const caps = await d.budget.left(cat.provider, ctx.callerId, ctx.principal);
      let busy = false;
      const balance = await d.balance(cat.provider, ctx.signal).catch((err: unknown) => {
        busy = isBusy(err);
        return undefined;
      });
      const price =
        q.kind === 'unknown'
          ? {
              kind: 'unknown',
              reason: q.reason,
              currency: cat.currency,
              ...(observed
                ? {
                    observed: {
                      latest: observed.latest,
                      max: observed.max,
                      count: observed.count,
                      ...observedUse(observed, d.budget.unknownReserve),
                      latest_at: new Date(observed.latestAt).toISOString(),
                    },
                  }
                : {}),
            }
          : { kind: q.kind, credits: q.credits, detail: q.detail, currency: cat.currency };
      const lines = [
        `${tool.name}: ${withObserved(tool, q, observed)}${q.kind !== 'unknown' ? ` (${q.detail})` : ''}.`,
        consent.needed ? `Needs the user's consent: ${consent.reason}.` : `No consent needed: ${consent.reason}.`,
        ...(consent.needed && d.tokenOnly
          ? [
              'This server is stateless: consent goes by confirm_token (the call answers CONFIRMATION_REQUIRED with a token; ask the user, then repeat the call with it).',
            ]
          : []),
        ...Object.entries(caps).map(([scope, c]) => `${scope} cap: ${c.left} of ${c.cap} left.`),
        ...(balance !== undefined ? [`${cat.provider} balance: ${balance}.`] : []),
        ...(busy ? [`${cat.provider} ${BALANCE_BUSY}.`] : []),
      ];
      return {
        content: [{ type: 'text', text: lines.join('\n') }],
        structuredContent: {
          tool: tool.name,
          price,
          consent: consent.needed ? { ...consent, path: d.tokenOnly ? 'token' : 'elicitation or token' } : consent,
          caps,
          balance: balance ?? null,
          ...(busy ? { balance_note: BALANCE_BUSY } : {}),
        },
      };
    },
  });

  const report = defineTool({
    name: 'spend_report',
    title: 'Spend report',
    description: 'Credits spent and reserved per provider (today, this session, all time), caps left, recent charges.',
    shape: { limit: z.number().int().min(1).max(100).default(20) },
    readOnly: true,
    idempotent: true,
    run: async (a, ctx) => {
      const olderThan = d.now() - d.budget.staleMs;
      const [all, today, session, recent] = await Promise.all([
        d.store.spendTotals({ principal: ctx.principal, olderThan }),
        d.store.spendTotals({ principal: ctx.principal, day: utcDay(d.now()), olderThan }),
        d.store.spendTotals({ principal: ctx.principal, callerId: ctx.callerId, olderThan }),
        d.store.recentSpend(a.limit, ctx.principal),
      ]);
      const providers = [
        ...new Set([
          ...all.map((t) => t.provider),
          ...Object.keys(d.budget.caps.session),
          ...Object.keys(d.budget.caps.day),
        ]),
      ];
      const rows = await Promise.all(
        providers.map(async (p) => ({
          provider: p,
          all_time: all.find((t) => t.provider === p) ?? null,
          today: today.find((t) => t.provider === p) ?? null,
          session: session.find((t) => t.provider === p) ?? null,
          caps: await d.budget.left(p, ctx.callerId, ctx.principal),
        })),
      );
      const entries = recent.map((r) => ({
        reservation: r.id,
        tool: r.tool,
        provider: r.provider,
        credits: r.credits,
        state: r.state === 'reserved' && r.createdAt < olderThan ? 'uncertain' : r.state,
        args_hash: r.argsHash,
        job_id: r.jobId,
        time: new Date(r.createdAt).toISOString(),
      }));
      const lines = rows.map((r) => {
        const t = r.all_time;
        const part = (n: number | undefined, word: string): string => (n ? `, ${round(n)} ${word}` : '');
        const head = `${r.provider}: ${t ? round(t.committed) : 0} committed`;
        return head + part(t?.reserved, 'reserved') + part(t?.uncertain, 'uncertain') + part(t?.refunded, 'refunded');
      });
      if (rows.some((r) => r.all_time?.uncertain))
        lines.push(
          'Uncertain: the provider may have accepted these calls (their answer was lost); check its dashboard before repeating them.',
        );
      for (const e of entries.slice(0, 10))
        lines.push(`${e.time} ${e.tool} ${e.credits} ${e.state}${e.job_id ? ` ${e.job_id}` : ''}`);
      return {
        content: [{ type: 'text', text: lines.length ? lines.join('\n') : 'No spend recorded yet.' }],
        structuredContent: { providers: rows, entries },
      };
    },
  });
  return [quote, report];
}
