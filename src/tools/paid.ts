/**
 * The money path of every paid tool, in order: idempotency -> consent -> cap reservation -> one
 * provider request (never retried) -> settle (commit | release | uncertain) -> job ledger.
 * Nothing reaches a provider unless every step before it passed.
 */
import { argsHash as hashArgs } from '../guard/canonical.js';
import type { Budget } from '../guard/budget.js';
import type { ConsentGate, Elicit } from '../guard/consent.js';
import { decideConsent, type ConsentDecision, type ConsentSettings } from '../guard/policy.js';
import { consentQuote, observedText, priceKey, type PriceSampler } from '../guard/observed.js';
import { ABSURD_CREDITS, capReserve, strictAmount } from '../guard/observed-figures.js';
import { priceCall, type Quote } from '../guard/price.js';
import { MediagenError } from '../errors.js';
import type { JobLedger } from '../jobs/ledger.js';
import { newJobId } from '../jobs/ledger.js';
import type { Logger } from '../log.js';
import { clientFor, type ProviderClient } from '../providers/client.js';
import { getPath, validProviderJobId } from '../providers/envelope.js';
import type { JobRecord, ObservedPrice, Store } from '../store/store.js';
import { causeOf, outcomeOf, outcomeUnknown, type PaidInflight } from './paid-outcome.js';
import type { ToolSpec } from './build.js';

export interface PaidDeps {
  clients: ReadonlyMap<string, ProviderClient>;
  store: Store;
  ledger: JobLedger;
  budget: Budget;
  consent: ConsentGate;
  consentSettings: ConsentSettings;
  logger: Logger;
  now: () => number;
  /** The provider's balance as text, when it has a free balance route and a key. */
  balance: (provider: string, signal?: AbortSignal) => Promise<string | undefined>;
  /** Paid requests sent and not yet settled. */
  inflight: PaidInflight;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Balance reads around calls of tools whose price is unknown (observed prices). */
  sampler?: PriceSampler;
}

export interface PaidCall {
  tool: ToolSpec;
  /** Provider arguments (validated, defaults applied, no guard fields). */
  args: Record<string, unknown>;
  confirmToken?: string;
  idempotencyKey?: string;
  /** Session key (session caps; cancel rights between stdio processes). */
  callerId: string;
  /** Owner of the job, the consent token, the idempotency key and the day cap. */
  principal: string;
  signal: AbortSignal;
  elicit?: Elicit;
}

export type PaidOutcome =
  { kind: 'job'; job: JobRecord; quote: Quote; reused: boolean } | { kind: 'answer'; data: unknown; quote: Quote };

export function quoteText(q: Quote, currency: string): string {
  if (q.kind === 'unknown') return 'unknown';
  return `${q.kind === 'upTo' ? 'up to ' : ''}${q.credits} ${currency}`;
}

const KEY_ARGS = /prompt|model|duration|resolution|seconds|frames|quality|size|ratio|mode|count|voice|url|image|video/i;

function keyArgs(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args)
      .filter(([k]) => KEY_ARGS.test(k))
      .slice(0, 6),
  );
}

/** "unknown; last observed 12 credits (3 observations, latest 2026-11-27)" when there are observations. */
export async function priceText(
  store: Store,
  tool: ToolSpec,
  args: Record<string, unknown>,
  q: Quote,
): Promise<string> {
  return withObserved(tool, q, await observedFor(store, tool, args, q));
}

/** The observations of this call's price key, when its price is unknown. */
export function observedFor(
  store: Store,
  tool: ToolSpec,
  args: Record<string, unknown>,
  q: Quote,
): Promise<ObservedPrice | undefined> {
  return q.kind === 'unknown' ? store.observedPrice(tool.name, priceKey(tool.op, args)) : Promise.resolve(undefined);
}

/**
 * Whether this exact call needs consent, with the observations behind an unknown price: the one rule that
 * `quote` reports and the paid path enforces.
 */
export async function consentFor(
  d: { store: Store; consentSettings: ConsentSettings },
  tool: ToolSpec,
  args: Record<string, unknown>,
  q: Quote,
): Promise<{ seen: ObservedPrice | undefined; decision: ConsentDecision }> {
  const seen = await observedFor(d.store, tool, args, q);
  const priced = consentQuote(q, seen, d.consentSettings.trustObserved);
  return { seen, decision: decideConsent(tool.op, tool.catalogue, priced, d.consentSettings) };
}

export function withObserved(tool: ToolSpec, q: Quote, seen: ObservedPrice | undefined): string {
  const text = quoteText(q, tool.catalogue.currency);
  return seen ? `${text}; ${observedText(seen, tool.catalogue.currency)}` : text;
}

/** How long a duplicate call waits for the first call with the same idempotency_key to settle. */
const DUPLICATE_WAIT_MS = 3_000;

/** Keys are scoped to the principal in the store: another principal's key is simply a different key. */
function scopedKey(principal: string, key: string): string {
  return `${principal}/${key}`;
}

async function claimKey(d: PaidDeps, c: PaidCall, hash: string, quote: Quote): Promise<PaidOutcome | undefined> {
  const key = c.idempotencyKey;
  if (!key) return undefined;
  const waitUntil = d.now() + DUPLICATE_WAIT_MS;
  for (;;) {
    const claim = await d.store.claimIdempotency(scopedKey(c.principal, key), c.tool.name, hash, d.now());
    if (claim.state === 'new') return undefined;
    const r = claim.record;
    if (claim.state === 'conflict')
      throw new MediagenError(
        'IDEMPOTENCY_CONFLICT',
        `idempotency_key was already used with ${r.tool === c.tool.name ? 'other arguments' : `another tool (${r.tool})`}. Nothing was sent.`,
      );
    if (r.jobId) {
      const job = await d.store.getJob(r.jobId);
      if (job) return { kind: 'job', job, quote, reused: true };
      throw new MediagenError(
        'IDEMPOTENCY_CONFLICT',
        `A call with idempotency_key "${key}" was already answered at ${new Date(r.createdAt).toISOString()}; answers are not kept, so nothing new was sent or charged. Use a new key to ask again.`,
        { idempotency_key: key },
      );
    }
    const started = new Date(r.createdAt).toISOString();
    // A pending claim older than the request deadline belongs to a process that died mid-call.
    const inFlight = r.outcome === 'pending' && d.now() - r.createdAt < d.budget.staleMs;
    if (!inFlight)
      throw new MediagenError(
        'OUTCOME_UNKNOWN',
        `A call with idempotency_key "${key}" started at ${started} and its outcome is unknown (the provider may have accepted it; the answer was lost or unreadable). Nothing new was sent.`,
        {
          idempotency_key: key,
          ...(r.reservationId ? { reservation: r.reservationId } : {}),
          hint: 'Check spend_report and the provider dashboard before using a new key.',
        },
      );
    if (d.now() >= waitUntil || c.signal.aborted)
      throw new MediagenError(
        'IN_PROGRESS',
        `A call with idempotency_key "${key}" started at ${started} is still in flight. Nothing new was sent.`,
        { idempotency_key: key, hint: 'Call again with the same idempotency_key in a few seconds to get its job.' },
      );
    await d.sleep(100);
  }
}

export async function runPaid(d: PaidDeps, c: PaidCall): Promise<PaidOutcome> {
  const storeKey = c.idempotencyKey ? scopedKey(c.principal, c.idempotencyKey) : undefined;
  const { tool, args } = c;
  const cat = tool.catalogue;
  const hash = hashArgs(tool.name, args);
  const quote = priceCall(tool.op.price ?? { unknown: 'no price in the catalogue' }, args);

  const existing = await claimKey(d, c, hash, quote);
  if (existing) return existing;
  const forget = async (): Promise<void> => {
    if (storeKey) await d.store.dropIdempotency(storeKey);
  };

  const jobId = newJobId(d.now());
  try {
    const { seen, decision } = await consentFor(d, tool, args, quote);
    if (decision.needed) {
      await d.consent.obtain(
        {
          tool: tool.name,
          title: tool.title,
          argsHash: hash,
          callerId: c.principal,
          priceText: withObserved(tool, quote, seen),
          reason: decision.reason,
          keyArgs: keyArgs(args),
          balanceText: c.elicit ? await d.balance(cat.provider, c.signal).catch(() => undefined) : undefined,
          confirmToken: c.confirmToken,
        },
        c.elicit,
      );
    }
    await d.budget.reserve({
      id: jobId,
      provider: cat.provider,
      tool: tool.name,
      callerId: c.callerId,
      principal: c.principal,
      argsHash: hash,
      quote,
      observedMax: capReserve(seen, d.budget.unknownReserve),
    });
  } catch (err) {
    await forget();
    throw err;
  }
  if (c.signal.aborted) {
    // Cancelled before anything was sent: a refusal of our own.
    await d.budget.release(jobId);
    await forget();
    throw new MediagenError('INTERNAL', `${tool.name} was cancelled before anything was sent.`, { cancelled: true });
  }

  const credits = quote.kind === 'unknown' ? null : quote.credits;
  const unknown = async (cause: string): Promise<MediagenError> => {
    await d.budget.uncertain(jobId);
    if (storeKey) await d.store.markIdempotencyUnknown(storeKey, jobId);
    d.logger.warn('paid request outcome unknown; reservation kept as uncertain', {
      tool: tool.name,
      reservation: jobId,
      cause,
    });
    return outcomeUnknown({
      provider: cat.provider,
      tool: tool.name,
      reservation: jobId,
      credits,
      idempotencyKey: c.idempotencyKey,
      cause,
    });
  };

  d.inflight.add({ reservation: jobId, tool: tool.name, provider: cat.provider, idempotencyKey: storeKey });
  try {
    const sample = quote.kind === 'unknown' ? { tool: tool.name, op: tool.op, args } : undefined;
    await d.sampler?.begin(jobId, cat.provider, sample, c.signal);
    if (c.signal.aborted) {
      // Cancelled during the balance read, before anything was sent.
      await d.sampler?.finish(jobId, cat.provider, false);
      await d.budget.release(jobId);
      await forget();
      throw new MediagenError('INTERNAL', `${tool.name} was cancelled before anything was sent.`, { cancelled: true });
    }
    let data: unknown;
    try {
      const client = clientFor(d.clients, cat.provider);
      data = (await client.call(tool.op, args, { safe: false, signal: c.signal, detach: true })).data;
    } catch (err) {
      if (outcomeOf(err) === 'unknown') {
        d.sampler?.abandon(jobId);
        throw await unknown(causeOf(err));
      }
      await d.sampler?.finish(jobId, cat.provider, false);
      await d.budget.release(jobId);
      await forget();
      throw err;
    }

    if (!tool.op.job) {
      await d.sampler?.finish(jobId, cat.provider, true);
      // What the provider says it charged, when it is a plain decimal; else the reserved amount stands.
      const charged = tool.op.response?.charged ? getPath(data, tool.op.response.charged) : undefined;
      await d.budget.commit(jobId, jobId, strictAmount(charged, ABSURD_CREDITS));
      // The key stays bound: a repeat is told the call was answered, and is not charged again.
      if (storeKey) await d.store.settleIdempotency(storeKey, jobId);
      return { kind: 'answer', data, quote };
    }
    const providerJobId = validProviderJobId(getPath(data, tool.op.job.idField));
    if (providerJobId === undefined) {
      d.sampler?.abandon(jobId);
      throw await unknown(`its answer had no usable job id (${tool.op.job.idField})`);
    }
    const job = await d.ledger.record({
      id: jobId,
      tool: { name: tool.name, provider: cat.provider, op: tool.op },
      providerJobId,
      argsHash: hash,
      args,
      price: credits,
      callerId: c.callerId,
      principal: c.principal,
    });
    await d.budget.commit(jobId, jobId);
    if (storeKey) await d.store.settleIdempotency(storeKey, jobId);
    d.logger.info('job created', { job: jobId, tool: tool.name, providerJobId });
    return { kind: 'job', job, quote, reused: false };
  } finally {
    d.inflight.delete(jobId);
  }
}

/** Settle every paid request still in flight as uncertain (shutdown past its deadline, lost transport). */
export async function settleInflight(d: Pick<PaidDeps, 'inflight' | 'budget' | 'store' | 'logger'>): Promise<string[]> {
  const left = d.inflight.list();
  for (const c of left) {
    await d.budget.uncertain(c.reservation);
    if (c.idempotencyKey) await d.store.markIdempotencyUnknown(c.idempotencyKey, c.reservation);
    d.inflight.delete(c.reservation);
    d.logger.warn('paid request still in flight at shutdown; its reservation is left uncertain', {
      tool: c.tool,
      reservation: c.reservation,
    });
  }
  return left.map((c) => c.reservation);
}
