/**
 * The money path of every paid tool, in order: idempotency -> consent -> cap reservation -> one
 * provider request (never retried) -> settle (commit | release | uncertain) -> job ledger.
 * Nothing reaches a provider unless every step before it passed.
 */
import { argsHash as hashArgs } from '../guard/canonical.js';
import type { Budget } from '../guard/budget.js';
import type { ConsentGate, Elicit } from '../guard/consent.js';
import { decideConsent, type ConsentSettings } from '../guard/policy.js';
import { priceCall, type Quote } from '../guard/price.js';
import { MediagenError } from '../errors.js';
import type { JobLedger } from '../jobs/ledger.js';
import { newJobId } from '../jobs/ledger.js';
import type { Logger } from '../log.js';
import { clientFor, type ProviderClient } from '../providers/client.js';
import { getPath } from '../providers/envelope.js';
import type { JobRecord, Store } from '../store/store.js';
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
}

export interface PaidCall {
  tool: ToolSpec;
  /** Provider arguments (validated, defaults applied, no guard fields). */
  args: Record<string, unknown>;
  confirmToken?: string;
  idempotencyKey?: string;
  /** Session key (session caps). */
  callerId: string;
  /** Owner of the job, the consent token and the idempotency key. */
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

/** Errors after which the provider may have accepted (and charged) the job. */
function uncertain(err: unknown): boolean {
  if (!(err instanceof MediagenError)) return true;
  if (err.code === 'PROVIDER_TIMEOUT') return true;
  return err.code === 'PROVIDER_HTTP' && err.details.httpStatus === undefined;
}

export async function runPaid(d: PaidDeps, c: PaidCall): Promise<PaidOutcome> {
  const { tool, args } = c;
  const cat = tool.catalogue;
  const hash = hashArgs(tool.name, args);
  const quote = priceCall(tool.op.price ?? { unknown: 'no price in the catalogue' }, args);

  // Keys are scoped to the principal: another principal's key is simply a different key.
  const idemKey = c.idempotencyKey === undefined ? undefined : `${c.principal}/${c.idempotencyKey}`;
  if (idemKey) {
    const claim = await d.store.claimIdempotency(idemKey, tool.name, hash, d.now());
    if (claim.state === 'conflict')
      throw new MediagenError(
        'IDEMPOTENCY_CONFLICT',
        `idempotency_key was already used with ${claim.record.tool === tool.name ? 'other arguments' : `another tool (${claim.record.tool})`}. Nothing was sent.`,
      );
    if (claim.state === 'existing') {
      if (claim.record.jobId) return { kind: 'job', job: await d.ledger.get(claim.record.jobId), quote, reused: true };
      throw new MediagenError(
        'OUTCOME_UNKNOWN',
        `A call with this idempotency_key started at ${new Date(claim.record.createdAt).toISOString()} and its outcome is unknown (still running, or the server stopped before the provider answered). Nothing new was sent.`,
        { hint: 'Check spend_report and jobs_list, or the provider dashboard, before using a new key.' },
      );
    }
  }
  const forget = async (): Promise<void> => {
    if (idemKey) await d.store.dropIdempotency(idemKey);
  };

  const jobId = newJobId(d.now());
  try {
    const decision = decideConsent(tool.op, cat, quote, d.consentSettings);
    if (decision.needed) {
      await d.consent.obtain(
        {
          tool: tool.name,
          title: tool.title,
          argsHash: hash,
          callerId: c.principal,
          priceText: quoteText(quote, cat.currency),
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
      argsHash: hash,
      quote,
    });
  } catch (err) {
    await forget();
    throw err;
  }

  let data: unknown;
  try {
    data = (await clientFor(d.clients, cat.provider).call(tool.op, args, { safe: false, signal: c.signal })).data;
  } catch (err) {
    if (uncertain(err)) {
      await d.budget.uncertain(jobId);
      d.logger.warn('paid request outcome unknown; reservation kept as uncertain', {
        tool: tool.name,
        reservation: jobId,
      });
    } else {
      await d.budget.release(jobId);
      await forget();
    }
    throw err;
  }

  if (!tool.op.job) {
    const charged = tool.op.response?.charged ? Number(getPath(data, tool.op.response.charged)) : NaN;
    await d.budget.commit(jobId, jobId, Number.isFinite(charged) && charged >= 0 ? charged : undefined);
    return { kind: 'answer', data, quote };
  }
  const providerJobId = getPath(data, tool.op.job.idField);
  if (typeof providerJobId !== 'string' && typeof providerJobId !== 'number') {
    await d.budget.uncertain(jobId);
    throw new MediagenError(
      'PROVIDER_HTTP',
      `${cat.provider} accepted the request but sent no job id (${tool.op.job.idField}).`,
      {
        provider: cat.provider,
        hint: 'The job may exist at the provider; check its dashboard before retrying.',
      },
    );
  }
  const price = quote.kind === 'unknown' ? null : quote.credits;
  const job = await d.ledger.record({
    id: jobId,
    tool: { name: tool.name, provider: cat.provider, op: tool.op },
    providerJobId: String(providerJobId),
    argsHash: hash,
    args,
    price,
    callerId: c.principal,
  });
  await d.budget.commit(jobId, jobId);
  if (idemKey) await d.store.settleIdempotency(idemKey, jobId);
  d.logger.info('job created', { job: jobId, tool: tool.name, providerJobId: String(providerJobId) });
  return { kind: 'job', job, quote, reused: false };
}
