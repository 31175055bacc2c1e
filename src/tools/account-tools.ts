/**
 * quote and spend_report: read-only views of prices, consent, caps and the spend ledger, plus what the
 * background worker settled and how long each uncertain reservation has been uncertain.
 */
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
import type { ObservedPrice, Reservation } from '../store/store.js';
import {
  buildChart,
  chartLines,
  readWindow,
  refundEntry,
  refundLines,
  refundTotals,
  uncertainAdvice,
  withoutSession,
  CHART_DAYS,
  DESK_SESSION_NOTE,
} from './spend-view.js';
import { deskCaller } from '../jobs/owner.js';

/**
 * What spend_report says of the background worker: since it started, how many of the caller's own
 * reservations were refunded (read from the store, so it is the same on every replica and never counts
 * another principal's), and their credits.
 */
export interface WorkerSettled {
  /** When the worker started (ms). */
  since: number;
  refunded: number;
  refundedCredits: number;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** The worker's line of spend_report. */
export function workerText(w: WorkerSettled | undefined, currency = 'credits'): string {
  if (!w) return 'No background worker in this process: jobs are settled only when a client polls them.';
  const since = new Date(w.since).toISOString();
  return `Background worker running since ${since}; since then ${w.refunded} of your reservation${w.refunded === 1 ? ' was' : 's were'} refunded (${round(w.refundedCredits)} ${currency}) as their jobs failed.`;
}

/** One uncertain reservation's line: how long it has been uncertain (since its last change). */
export function uncertainText(r: Reservation, now: number, currency = 'credits'): string {
  return `Uncertain for ${ageText(now - r.updatedAt)}: ${r.tool}, ${round(r.credits)} ${currency} (reservation ${r.id}, since ${new Date(r.updatedAt).toISOString()}).`;
}

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
  /** Said with an unknown tool when no provider is configured (tools/no-provider.ts). */
  noProvider?: string;
  store: Store;
  budget: Budget;
  consentSettings: ConsentSettings;
  /** Stateless HTTP: consent can only go by confirm_token (the client cannot be asked mid-request). */
  tokenOnly?: boolean;
  /** The consent mode (--consent): which ways quote names for asking the person. */
  consentMode?: 'auto' | 'elicitation' | 'token' | 'app-or-form';
  now: () => number;
  balance: (provider: string, signal?: AbortSignal) => Promise<string | undefined>;
  /** The background worker's counts; undefined when this process runs none. */
  worker?: () => { since: number } | undefined;
}

/** The ways consent can be given in this mode, strongest first (DESIGN §12), as quote names them. */
export function consentPath(mode: AccountToolDeps['consentMode'], tokenOnly: boolean | undefined): string {
  if (mode === 'token') return 'token';
  if (mode === 'elicitation') return 'form';
  if (mode === 'app-or-form') return 'approval view or form';
  return tokenOnly ? 'token' : 'approval view, form or token';
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
      if (!tool)
        throw new MediagenError(
          'NOT_FOUND',
          `Unknown tool "${a.tool}".${d.noProvider ? ` ${d.noProvider}` : ''}`,
          d.noProvider ? { no_provider: true } : {},
        );
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
          consent: consent.needed ? { ...consent, path: consentPath(d.consentMode, d.tokenOnly) } : consent,
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
    description: `Credits spent and reserved per provider (today, this session, all time), caps left, recent charges; per day for the last ${CHART_DAYS} days, uncertain reservations and what to do, refunds.`,
    shape: { limit: z.number().int().min(1).max(100).default(20) },
    readOnly: true,
    idempotent: true,
    run: async (a, ctx) => {
      const olderThan = d.now() - d.budget.staleMs;
      // The ui's page has no model session: its own session's figures would be a fresh, empty one.
      const desk = deskCaller(ctx.callerId);
      const [all, today, session, recent, uncertain] = await Promise.all([
        d.store.spendTotals({ principal: ctx.principal, olderThan }),
        d.store.spendTotals({ principal: ctx.principal, day: utcDay(d.now()), olderThan }),
        d.store.spendTotals({ principal: ctx.principal, callerId: ctx.callerId, olderThan }),
        d.store.recentSpend(a.limit, ctx.principal),
        d.store.uncertainReservations({ principal: ctx.principal, olderThan }),
      ]);
      const window = await readWindow(d.store, ctx.principal, d.now(), olderThan);
      const currencyOf = (provider: string): string =>
        [...d.tools.values()].find((t) => t.catalogue.provider === provider)?.catalogue.currency ?? 'credits';
      const chart = buildChart(window.rows, d.now(), currencyOf);
      const running = d.worker?.();
      const refunds = running
        ? await d.store.refundedSince({ principal: ctx.principal, since: running.since })
        : undefined;
      const worker: WorkerSettled | undefined =
        running && refunds
          ? { since: running.since, refunded: refunds.count, refundedCredits: refunds.credits }
          : undefined;
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
          session: desk ? null : (session.find((t) => t.provider === p) ?? null),
          caps: withoutSession(await d.budget.left(p, ctx.callerId, ctx.principal), desk),
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
      for (const r of uncertain) lines.push(uncertainText(r, d.now(), d.tools.get(r.tool)?.catalogue.currency));
      if (uncertain.length)
        lines.push(
          'To settle one: if the provider shows its job, jobs_track with the tool, the provider job id and the reservation id.',
        );
      const refundTotal = refundTotals(window.refundRows, currencyOf);
      lines.push(...chartLines(chart), ...refundLines(window.refunds, refundTotal, currencyOf));
      for (const e of entries.slice(0, 10))
        lines.push(`${e.time} ${e.tool} ${e.credits} ${e.state}${e.job_id ? ` ${e.job_id}` : ''}`);
      if (desk && Object.keys(d.budget.caps.session).length) lines.push(DESK_SESSION_NOTE);
      const body = lines.length ? lines.join('\n') : 'No spend recorded yet.';
      return {
        content: [{ type: 'text', text: `${body}\n${workerText(worker)}` }],
        structuredContent: {
          providers: rows,
          entries,
          uncertain: uncertain.map((r) => ({
            reservation: r.id,
            tool: r.tool,
            provider: r.provider,
            credits: r.credits,
            job_id: r.jobId,
            uncertain_since: new Date(r.updatedAt).toISOString(),
            uncertain_for_seconds: Math.max(0, Math.floor((d.now() - r.updatedAt) / 1000)),
            state: r.state,
            currency: currencyOf(r.provider),
            what_to_do: uncertainAdvice(r),
          })),
          chart,
          refunds: window.refunds.map((r) => refundEntry(r, currencyOf(r.provider))),
          refunds_total: refundTotal,
          generated_at: new Date(d.now()).toISOString(),
          ...(desk && Object.keys(d.budget.caps.session).length ? { session_note: DESK_SESSION_NOTE } : {}),
          worker: worker
            ? {
                since: new Date(worker.since).toISOString(),
                refunded: worker.refunded,
                refunded_credits: round(worker.refundedCredits),
              }
            : null,
        },
      };
    },
  });
  return [quote, report];
}
