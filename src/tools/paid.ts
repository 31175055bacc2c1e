/**
 * The money path of every paid tool, in order: idempotency -> consent -> cap reservation -> one
 * provider request (never retried) -> settle (commit | release | uncertain) -> job ledger.
 * Nothing reaches a provider unless every step before it passed.
 */
import { argsHash as hashArgs } from '../guard/canonical.js';
import type { Budget } from '../guard/budget.js';
import type { Consent, ConsentGate, Elicit } from '../guard/consent.js';
import { decideConsent, type ConsentDecision, type ConsentSettings } from '../guard/policy.js';
import { consentQuote, observedText, priceKey, type PriceSampler } from '../guard/observed.js';
import { ABSURD_CREDITS, capReserve, strictAmount } from '../guard/observed-figures.js';
import { capsLeftText, type AppContext } from '../guard/approval.js';
import { priceCall, type Quote } from '../guard/price.js';
import { MediagenError } from '../errors.js';
import { isStoreUnavailable } from '../store/outage.js';
import type { AcceptedEntry, AcceptedJournal } from '../jobs/journal.js';
import type { JobLedger } from '../jobs/ledger.js';
import { newJobId, newJobRecord } from '../jobs/ledger.js';
import type { Logger } from '../log.js';
import { noteLog } from '../log-context.js';
import type { Metrics } from '../metrics/metrics.js';
import { clientFor, type ProviderClient } from '../providers/client.js';
import { getPath, validProviderJobId } from '../providers/envelope.js';
import type { JobRecord, ObservedPrice, Store } from '../store/store.js';
import { recordAccepted, settleAnswer } from './paid-accept.js';
import { scrubbed, withHook } from './paid-hook.js';
import { accepted, bestEffort, cleanUp, type Undo } from './paid-inflight.js';
import { claimKey, scopedKey } from './paid-keys.js';
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
  /** Accepted calls the store could not take yet (replayed into it when it is back). */
  journal: AcceptedJournal;
  /** HTTP with --public-url: creates naming a job.webhookParam the caller left out carry this server's hook. */
  publicUrl?: string;
  /** Counts paid provider requests by outcome class (/metrics). */
  metrics?: Metrics;
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
  /** The client renders MCP App views: consent may be asked for with an approval view (DESIGN §12). */
  apps?: boolean;
  /**
   * Consent already given (a person's Approve of a pending approval): not asked again, and given back
   * when the call is refused before anything is sent.
   */
  consent?: Consent;
  /** The credits the person approved (null: unknown); a call now quoted higher, or unknown, is refused. */
  approvedCredits?: number | null;
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

/** What an approval view needs beyond the consent request: the call itself, who made it, the caps left. */
async function appContext(d: PaidDeps, c: PaidCall, quote: Quote): Promise<AppContext> {
  const left = await d.budget.left(c.tool.catalogue.provider, c.callerId, c.principal);
  return {
    args: c.args,
    principal: c.principal,
    callerId: c.callerId,
    ...(c.idempotencyKey !== undefined ? { idempotencyKey: c.idempotencyKey } : {}),
    capsLeft: capsLeftText(left, c.tool.catalogue.currency),
    quotedCredits: quote.kind === 'unknown' ? null : quote.credits,
  };
}

/**
 * The price a person approved binds the approved call: quoted higher now, or unknown where it was known,
 * it is refused before anything is sent and the approval is closed (the person is asked again).
 */
async function priceHolds(tool: ToolSpec, quote: Quote, approved: number | null, consent: Consent): Promise<void> {
  const now = quote.kind === 'unknown' ? null : quote.credits;
  if (approved === null || (now !== null && now <= approved)) return;
  await consent.close?.();
  const cur = tool.catalogue.currency;
  throw new MediagenError(
    'APPROVAL_INVALID',
    `The price of ${tool.name} changed since it was approved (approved ${approved} ${cur}, now ${quoteText(quote, cur)}). Nothing was sent or charged; this approval is closed: ask for the call again to get a new approval at the new price.`,
    { refused: 'price_changed', approved_credits: approved, price: quoteText(quote, cur) },
  );
}

/** What a refused call left behind when its undo writes failed too, and what that means for a repeat. */
const LEFT: Record<Undo, string> = {
  approval: 'the approval may be used up, so a repeat may need a new approval',
  key: 'its idempotency_key may stay bound (a repeat with it answers IN_PROGRESS, then OUTCOME_UNKNOWN, although nothing was sent), so repeat it with a new idempotency_key',
  reservation:
    'its reservation may stay reserved: it counts against the caps, and past the request deadline as uncertain (spend_report), until it is released',
};

/** The store failed before anything was sent: a refusal (DESIGN §5.7), and the answer says so. */
export function refusedByStore(err: unknown, tool: string, provider: string, left: readonly Undo[] = []): unknown {
  if (!isStoreUnavailable(err)) return err;
  // The store's own "nothing was written. Try again shortly." is not said when the undo left something behind.
  const said = left.length
    ? err.message.replace(/;?\s*nothing was written\.\s*Try again shortly\.?$/, '.')
    : err.message;
  const after = left.length
    ? `the store failed again while undoing it: ${left.map((l) => LEFT[l]).join('; ')}.`
    : 'the call can be repeated as it is once the store is back.';
  return new MediagenError(
    'STORE_UNAVAILABLE',
    `${said} ${tool}: nothing was sent to ${provider} and nothing was charged; ${after}`,
    { ...err.details, tool, provider, sent: false, ...(left.length ? { left_behind: left } : {}) },
  );
}

export async function runPaid(d: PaidDeps, c: PaidCall): Promise<PaidOutcome> {
  const storeKey = c.idempotencyKey ? scopedKey(c.principal, c.idempotencyKey) : undefined;
  const { tool, args } = c;
  const cat = tool.catalogue;
  const hash = hashArgs(tool.name, args);
  const quote = priceCall(tool.op.price ?? { unknown: 'no price in the catalogue' }, args);
  if (c.consent && c.approvedCredits !== undefined) await priceHolds(tool, quote, c.approvedCredits, c.consent);

  let existing: PaidOutcome | undefined;
  try {
    existing = await claimKey({ ...d, staleMs: d.budget.staleMs }, c, hash, quote);
  } catch (err) {
    // Refused by its key before anything was sent: a consent given beforehand works once more.
    const left = await cleanUp(d, undefined, [['approval', c.consent?.giveBack]]);
    throw refusedByStore(err, tool.name, cat.provider, left);
  }
  if (existing) return existing;
  const forget = async (): Promise<void> => {
    if (storeKey) await d.store.dropIdempotency(storeKey);
  };

  const jobId = newJobId(d.now());
  noteLog({ job: jobId, price: quoteText(quote, cat.currency) });
  let consent: Consent | undefined = c.consent;
  let reserved = false;
  try {
    const { seen, decision } = await consentFor(d, tool, args, quote);
    if (decision.needed && !consent) {
      // The approval view is the viewer, which job-creating tools link: only they can ask with it.
      const viewed = c.apps === true && tool.op.job !== undefined;
      consent = await d.consent.obtain(
        {
          tool: tool.name,
          title: tool.title,
          argsHash: hash,
          callerId: c.principal,
          priceText: withObserved(tool, quote, seen),
          reason: decision.reason,
          keyArgs: keyArgs(args),
          balanceText: c.elicit || c.apps ? await d.balance(cat.provider, c.signal).catch(() => undefined) : undefined,
          confirmToken: c.confirmToken,
          app: viewed ? await appContext(d, c, quote) : undefined,
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
    reserved = true;
    // The approval behind this consent knows its reservation before anything is sent (DESIGN §5).
    if (consent?.bind) await consent.bind(jobId);
    // The key knows its reservation before anything is sent: a crash mid-call leaves it settleable.
    if (storeKey) await d.store.bindIdempotencyReservation(storeKey, jobId);
  } catch (err) {
    // Refused before anything was sent (a cap): the consent token was not spent on anything.
    const left = await cleanUp(d, jobId, [
      ['reservation', reserved ? () => d.budget.release(jobId) : undefined],
      ['approval', consent?.giveBack],
      ['key', storeKey ? forget : undefined],
    ]);
    throw refusedByStore(err, tool.name, cat.provider, left);
  }
  // The request deadline: past it, the reservation is stale (counted as uncertain by every process).
  const deadline = d.now() + d.budget.staleMs;
  const cancelled = async (): Promise<never> => {
    // Cancelled before anything was sent: a refusal of our own.
    await cleanUp(d, jobId, [
      ['reservation', () => d.budget.release(jobId)],
      ['approval', consent?.giveBack],
      ['key', storeKey ? forget : undefined],
    ]);
    throw new MediagenError('INTERNAL', `${tool.name} was cancelled before anything was sent.`, { cancelled: true });
  };
  if (c.signal.aborted) await cancelled();

  const credits = quote.kind === 'unknown' ? null : quote.credits;
  const unknown = async (cause: string): Promise<MediagenError> => {
    await bestEffort(d, 'mark the reservation uncertain', () => d.budget.uncertain(jobId), jobId);
    if (storeKey)
      await bestEffort(d, 'keep the key bound', () => d.store.markIdempotencyUnknown(storeKey, jobId), jobId);
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
      await cancelled();
    }
    let data: unknown;
    // The hook goes into the request only: consent, the key, the hash and the ledger keep the caller's args.
    const hook = withHook(tool.op, args, d.publicUrl);
    try {
      const client = clientFor(d.clients, cat.provider);
      data = (await client.call(tool.op, hook.sent, { safe: false, signal: c.signal, detach: true })).data;
    } catch (caught) {
      const err = scrubbed(caught, hook.secret);
      d.metrics?.providerFailed(cat.provider, err);
      if (outcomeOf(err) === 'unknown') {
        d.sampler?.abandon(jobId);
        throw await unknown(causeOf(err));
      }
      await d.sampler?.finish(jobId, cat.provider, false);
      await cleanUp(d, jobId, [
        ['reservation', () => d.budget.release(jobId)],
        ['key', storeKey ? forget : undefined],
      ]);
      throw err;
    }
    const answeredId = !tool.op.job || validProviderJobId(getPath(data, tool.op.job.idField)) !== undefined;
    d.metrics?.providerAnswered(cat.provider, answeredId ? 'accepted' : 'unknown');

    // Accepted: from here on the call is recorded or unknown (journaled), never "nothing was written".
    const base = { reservation: jobId, provider: cat.provider, tool: tool.name, principal: c.principal };
    const keyed = storeKey ? { idempotencyKey: storeKey } : {};
    if (!tool.op.job) {
      // What the provider says it charged, when it is a plain decimal; else the reserved amount stands.
      const charged = tool.op.response?.charged
        ? strictAmount(getPath(data, tool.op.response.charged), ABSURD_CREDITS)
        : undefined;
      const entry: AcceptedEntry = {
        ...base,
        ...keyed,
        ...(charged !== undefined ? { credits: charged } : {}),
        at: d.now(),
      };
      accepted(d, entry);
      await d.sampler?.finish(jobId, cat.provider, true);
      // The key stays bound: a repeat is told the call was answered, and is not charged again.
      await settleAnswer(d, entry, deadline);
      return { kind: 'answer', data, quote };
    }
    const providerJobId = validProviderJobId(getPath(data, tool.op.job.idField));
    if (providerJobId === undefined) {
      d.sampler?.abandon(jobId);
      throw await unknown(`its answer had no usable job id (${tool.op.job.idField})`);
    }
    const jobTool = { name: tool.name, provider: cat.provider, op: tool.op };
    const fresh = newJobRecord(
      {
        id: jobId,
        tool: jobTool,
        providerJobId,
        argsHash: hash,
        args,
        price: credits,
        callerId: c.callerId,
        principal: c.principal,
      },
      d.now(),
      d.ledger.firstPollDelay(jobTool),
    );
    const record: JobRecord = hook.hash ? { ...fresh, webhookHash: hook.hash } : fresh;
    const entry = { ...base, ...keyed, providerJobId, job: record, at: d.now() };
    accepted(d, entry);
    const job = await recordAccepted(d, { entry, credits, idempotencyKey: c.idempotencyKey, deadline });
    d.ledger.created(job);
    d.logger.info('job created', { job: job.id, tool: tool.name, providerJobId });
    return { kind: 'job', job, quote, reused: false };
  } finally {
    d.inflight.delete(jobId);
  }
}
