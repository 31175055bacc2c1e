/**
 * The Store: everything that must survive a restart or be shared by several server processes (jobs,
 * spend reservations and the spend ledger, consent tokens, idempotency keys). Two implementations
 * (SQLite, PostgreSQL) pass one contract test suite. Every method is atomic on its own.
 */

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface JobOutput {
  url: string;
  kind: string;
  mimeType?: string;
  /** Absolute path when downloaded into the output folder. */
  path?: string;
  /** "scan": not a declared result field; found by scanning the whole result (see jobs/results.ts). */
  source?: 'scan';
  /** Key of the kept copy in the output store: `PREFIX/<principal>/<job id>/<n>.<ext>`. */
  storedKey?: string;
  /**
   * The output store the copy is in (OutputStore.identity: `s3://<bucket>` or `local:<absolute folder>`).
   * A link is made only when it is this server's store; records kept before it existed have none.
   */
  storedIn?: string;
  /** Size and type (from its magic bytes) of the kept copy. */
  storedBytes?: number;
  storedType?: string;
  /** Why the output could not be kept (refused address, over the size cap, a type that does not match). */
  storeError?: string;
  /** A cover: the 1-based number of the output (same result item) it is the cover of. */
  of?: number;
}

export interface JobRecord {
  /** Ours, e.g. "job_01J…"; stable forever. */
  id: string;
  provider: string;
  tool: string;
  providerJobId: string;
  argsHash: string;
  /** Provider arguments as sent (no guard fields). */
  args: Record<string, unknown>;
  /** Credits reserved for the job (upper bound for "up to" prices); null when unknown. */
  price: number | null;
  /** The session that created the job (MCP session id, `stdio:<pid>`, or the principal when stateless). */
  callerId: string;
  /** Who owns the job (`local` on stdio; the bearer token's principal over HTTP). */
  principal: string;
  status: JobStatus;
  /** The provider's own status word, as last seen. */
  providerStatus: string | null;
  /** 0..100 when the provider reports it. */
  progress: number | null;
  outputs: JobOutput[];
  error: string | null;
  polls: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /**
   * When the background worker polls the job next (ms); null once it is final or the worker gave up on it
   * (past its time limit plus the grace). Unset on insert means due at once.
   */
  nextPollAt?: number | null;
  /** Background polls that failed in a row (the worker backs off on them). */
  pollErrors?: number;
  /** SHA-256 (hex) of the job's webhook capability, while one is open (single use; see takeWebhook). */
  webhookHash?: string | null;
  /**
   * Created with a per-request provider key (--byok): the key is never stored, so the job is polled and
   * cancelled only by a request of its principal that sends one; the worker leaves it alone while open.
   */
  byok?: boolean;
}

export type JobPatch = Partial<
  Pick<
    JobRecord,
    'status' | 'providerStatus' | 'progress' | 'outputs' | 'error' | 'finishedAt' | 'polls' | 'nextPollAt'
  >
>;

/** A lease request of the background worker (see Store.leaseDueJobs). */
export interface LeaseQuery {
  /** This worker's id (`<host>:<pid>:<random>`): unique per process run. */
  owner: string;
  now: number;
  /** The lease lasts this long; a worker that dies loses its jobs when it runs out. */
  leaseMs: number;
  limit: number;
  /** Only jobs of these providers (the ones this process has a client for); all when unset. */
  providers?: readonly string[];
  /** Only jobs of these principals (the ones this process can poll for); all when unset. */
  principals?: readonly string[];
  /** Not these jobs (ones this process found it cannot poll, for a while). */
  exclude?: readonly string[];
}

/** Options of Store.updateJob. */
export interface UpdateOptions {
  /**
   * Write only while the job is not final (a status poll's answer: a final status never changes once
   * recorded). When the job is final nothing is written and the answer is undefined.
   */
  onlyOpen?: boolean;
}

/** One take of a shared rate-limit window (see Store.takeRateSlot). */
export interface RateSlotQuery {
  /** Which limit: `<provider>:<sha256 of the key, 16 hex>`, so every process using one key shares it. */
  bucket: string;
  /** Starts allowed in any window (background takes pass less than the limit, keeping room for foreground). */
  limit: number;
  windowMs: number;
  now: number;
}

/** See Store.uncertainReservations. */
export interface UncertainQuery {
  principal?: string;
  olderThan: number;
  limit?: number;
}

/** Jobs of one tool created since a time, and how many of them failed (models' health line). */
export interface ToolOutcome {
  tool: string;
  total: number;
  failed: number;
}

export interface JobQuery {
  /** Only this principal's jobs. */
  principal?: string;
  status?: JobStatus;
  provider?: string;
  /** createdAt >= since (ms) */
  since?: number;
  /** createdAt < until (ms) */
  until?: number;
  /** Page size, 1..100. */
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface JobPage {
  jobs: JobRecord[];
  nextCursor?: string;
}

/**
 * reserved -> committed (accepted) -> refunded (the job failed, or was cancelled with a documented refund);
 * reserved -> released (refused: nothing was charged); reserved -> uncertain (the provider may have
 * accepted) -> committed | refunded once the job's fate is known, or released when it is proven that
 * nothing was accepted. Caps count reserved + committed + uncertain.
 */
export type ReservationState = 'reserved' | 'committed' | 'released' | 'uncertain' | 'refunded';
export const RESERVATION_STATES: readonly ReservationState[] = [
  'reserved',
  'committed',
  'released',
  'uncertain',
  'refunded',
];

export interface Reservation {
  id: string;
  provider: string;
  tool: string;
  /** Session key: session caps count per caller. */
  callerId: string;
  /** Day caps and reports count per principal. */
  principal: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  credits: number;
  argsHash: string;
  state: ReservationState;
  jobId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ReserveRequest {
  id: string;
  provider: string;
  tool: string;
  callerId: string;
  /** The day cap counts this principal's reservations for the provider and day. */
  principal: string;
  day: string;
  credits: number;
  argsHash: string;
  now: number;
  /** Caps in credits for this provider; undefined = no cap. */
  sessionCap?: number;
  dayCap?: number;
}

export type ReserveResult =
  { ok: true; reservation: Reservation } | { ok: false; scope: 'session' | 'day'; cap: number; used: number };

export interface SpendTotals {
  provider: string;
  /** Credits committed (accepted by the provider). */
  committed: number;
  /** Credits reserved and not yet settled. */
  reserved: number;
  /** Credits whose outcome is unknown (timeout or crash while the provider may have accepted). */
  uncertain: number;
  /** Credits of accepted jobs that failed (the provider gave them back); not counted under caps. */
  refunded: number;
  /** Credits reserved for calls the provider refused; not counted under caps. */
  released: number;
}

/** Filters of spendTotals: one session (caller), one principal, one UTC day; stale 'reserved' counts as uncertain. */
export interface SpendQuery {
  callerId?: string;
  principal?: string;
  day?: string;
  olderThan?: number;
}

/** Per provider and UTC day: the totals of spendTotals for one day (see Store.spendByDay). */
export interface DaySpend extends SpendTotals {
  /** UTC day, YYYY-MM-DD. */
  day: string;
}

/** See Store.spendByDay. */
export interface DaySpendQuery {
  principal: string;
  /** The first UTC day (YYYY-MM-DD) reported. */
  fromDay: string;
  /** 'reserved' rows created before this count as uncertain. */
  olderThan: number;
}

/** See Store.refundsByProvider. */
export interface ProviderRefunds {
  provider: string;
  count: number;
  credits: number;
}

/** See Store.refundsSince. */
export interface RefundQuery {
  principal: string;
  since: number;
  /** 1..100 (default 100). */
  limit?: number;
}

export interface ConsentToken {
  /** sha256 of the token text (the token itself is never stored). */
  tokenHash: string;
  tool: string;
  argsHash: string;
  callerId: string;
  expiresAt: number;
  createdAt: number;
}

export type ConsumeResult = 'ok' | 'unknown' | 'used' | 'expired' | 'mismatch';

/**
 * A pending approval a person clicks in an MCP App view (DESIGN §12; schema in approvals-sql.ts): the
 * call it runs, bound to tool, canonical arguments, principal, caller and expiry. Works once.
 */
export interface PendingApproval {
  /** sha256 of the approval id (the id itself is never stored). */
  idHash: string;
  tool: string;
  /** The provider arguments (validated, no guard fields) the approval runs, as canonical JSON. */
  args: Record<string, unknown>;
  /** argsHash(tool, args): what the call is bound to. */
  argsHash: string;
  /** Who may decide it; another principal's approval is 'unknown'. */
  principal: string;
  /** The session that asked (its session cap counts the call). */
  callerId: string;
  /** The caller's idempotency_key, when the call that asked carried one (the approved call runs under it). */
  idempotencyKey?: string;
  /**
   * sha256 of the confirm_token issued with it as the fallback, if any: one consent, so taking the approval
   * must use the token up too (and a token already used means the approval is used).
   */
  tokenHash?: string;
  /** The credits quoted when it was asked for (null: unknown); the approved call must not quote higher. */
  quotedCredits?: number | null;
  expiresAt: number;
  createdAt: number;
}

/** Why an approval cannot be decided: never issued (or another principal's), already used, declined, expired. */
export type ApprovalRefusal = 'unknown' | 'used' | 'declined' | 'expired';

/** A refusal; a used approval names the reservation (= job id) its call ran under once one was recorded. */
export interface ApprovalRefused {
  ok?: false;
  refused: ApprovalRefusal;
  reservation?: string;
}

export type DeclineApprovalResult = { ok: true; approval: PendingApproval } | ({ ok: false } & ApprovalRefused);

export type TakeApprovalResult =
  { ok: true; approval: PendingApproval; usedAt: number } | ({ ok: false } & ApprovalRefused);

export interface IdempotencyRecord {
  key: string;
  tool: string;
  argsHash: string;
  /** Set once the provider accepted the job. */
  jobId: string | null;
  createdAt: number;
  /** 'pending': the call is in flight; 'unknown': it ended without knowing whether the provider accepted. */
  outcome: 'pending' | 'unknown' | 'job';
  /** The spend reservation of the call (set with an unknown outcome). */
  reservationId: string | null;
}

export type ClaimResult =
  | { state: 'new' }
  | { state: 'existing'; record: IdempotencyRecord }
  | { state: 'conflict'; record: IdempotencyRecord };

/**
 * One observed charge of a tool whose price is not published: the provider's balance before the create
 * minus after the job settled, when no other job of that provider overlapped. `priceKey` is the canonical
 * JSON of the price-relevant arguments (see guard/observed.ts).
 */
export interface PriceObservation {
  provider: string;
  tool: string;
  priceKey: string;
  credits: number;
  observedAt: number;
}

export interface ObservedPrice {
  /** The most recent observation. */
  latest: number;
  /** The highest observation ever made (guard/observed.ts decides what counts). */
  max: number;
  count: number;
  latestAt: number;
  /** The most recent observations (up to RECENT_OBSERVATIONS), newest first. */
  recent: number[];
}

/** How many of the latest observations of a (tool, price key) `observedPrice` returns in `recent`. */
export const RECENT_OBSERVATIONS = 20;

/**
 * Was the balance of `provider` possibly moved by anything but the sampled call (`exceptId`, its
 * reservation and job id) between `from` and `to`? Any other reservation or job of the provider created
 * from `from - horizonMs` up to `to` counts, unless it provably ended before `from`: a committed or
 * released reservation or a succeeded job that ended before `from`; a refunded reservation or a failed or
 * cancelled job that ended more than `settleMs` before `from` (its refund may land late). Reservations
 * still reserved or uncertain count back to the horizon (past it, a lost call's charge has long landed);
 * a job of any age counts while it is not final, and for `settleMs` after it failed or was cancelled.
 */
export interface ActivityQuery {
  provider: string;
  exceptId: string;
  from: number;
  to: number;
  horizonMs: number;
  settleMs: number;
}

/** What one maintenance purge deleted. */
export interface PurgeCounts {
  tokens: number;
  keys: number;
  approvals: number;
}

/** Tolerance for fractional credits: 10 × 0.1 must fit a cap of 1. */
export const CAP_EPSILON = 1e-9;

/** Sums of floats drift (0.1 + 0.2); report them rounded to 12 significant digits. */
export function roundCredits(x: number): number {
  return Number(x.toPrecision(12));
}

/** States whose credits count against a cap, as an SQL list (both stores). */
export const COUNTING_SQL = "('reserved', 'committed', 'uncertain')";

/**
 * Idempotency keys (`idempotency_keys` rows) whose outcome is settled, so maintenance may purge them once
 * old (both stores; see Store.purge).
 */
export const SETTLED_KEY_SQL = `outcome <> 'unknown' AND NOT (outcome = 'pending' AND reservation_id IS NULL)
  AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = idempotency_keys.reservation_id
    AND r.state IN ('reserved', 'uncertain'))`;

/** The job row of a provider job id: the one the UNIQUE index covers first, then the oldest. */
export const BY_PROVIDER_JOB_SQL = `SELECT * FROM jobs WHERE provider = @provider AND provider_job_id = @providerJobId
  ORDER BY (duplicate_of IS NOT NULL), created_at, id LIMIT 1`;

/** The reservation a successful reserve() writes. */
export function newReservation(r: ReserveRequest): Reservation {
  const { id, provider, tool, callerId, principal, day, credits, argsHash, now } = r;
  return {
    id,
    provider,
    tool,
    callerId,
    principal,
    day,
    credits,
    argsHash,
    state: 'reserved',
    jobId: null,
    createdAt: now,
    updatedAt: now,
  };
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  // jobs
  insertJob(job: JobRecord): Promise<void>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /**
   * The job of a provider's own job id (one per provider: a second insert of the same pair is refused).
   * Rows duplicated before that rule (migration 5) answer with the oldest.
   */
  jobByProviderId(provider: string, providerJobId: string): Promise<JobRecord | undefined>;
  /** The updated job; undefined when unknown, or (with `onlyOpen`) final, in which case nothing is written. */
  updateJob(id: string, patch: JobPatch, now: number, opts?: UpdateOptions): Promise<JobRecord | undefined>;
  /** Newest first (createdAt desc, id desc). */
  listJobs(q: JobQuery): Promise<JobPage>;

  // background worker: leases on job rows (one poller per job across processes and replicas)
  /**
   * Atomically lease up to `limit` jobs whose next_poll_at is set and <= now, final or not (a final job
   * with a time set still has outputs to keep), whose lease is free or expired (lease_until <= now),
   * soonest due first: each gets lease_owner = owner and lease_until = next_poll_at = now + leaseMs (if
   * the owner dies, the job falls due when the lease runs out). PostgreSQL: FOR UPDATE SKIP LOCKED;
   * SQLite: one BEGIN IMMEDIATE. Jobs with next_poll_at NULL (nothing to do, or given up) are never leased.
   */
  leaseDueJobs(q: LeaseQuery): Promise<JobRecord[]>;
  /**
   * Give back the lease `owner` holds on job `id`, scheduling the next poll (`nextPollAt` null: never
   * again) and recording the errors in a row. False (and nothing written) when `owner` no longer holds it.
   * A time set during the lease (pokeJob, or updateJob's nextPollAt) that is earlier than the lease's end is
   * kept when it is earlier than `nextPollAt`; a null `nextPollAt` always wins.
   */
  releaseLease(id: string, owner: string, next: { nextPollAt: number | null; errors: number }): Promise<boolean>;
  /**
   * Extend the lease `owner` still holds on job `id` to `until` (a long run: keeping outputs). A job not
   * poked during the lease stays due at the lease's end. False (and nothing written) when `owner` does not
   * hold it.
   */
  renewLease(id: string, owner: string, until: number): Promise<boolean>;
  /**
   * The earliest time a job (of `providers` and `principals`, when given, and not in `exclude`) can be
   * leased: its next_poll_at, or for a job under lease not before the lease runs out; undefined when none
   * is scheduled.
   */
  nextDueAt(
    providers?: readonly string[],
    principals?: readonly string[],
    exclude?: readonly string[],
  ): Promise<number | undefined>;
  /** Make an open job due now (a webhook hint): next_poll_at = now. False when unknown or final. */
  pokeJob(id: string, now: number): Promise<boolean>;
  /**
   * Use a webhook capability once: the open (not final) job whose webhook_hash is `capabilityHash`, with
   * the hash cleared and the job made due at `now` in the same statement, so a replay finds nothing and a
   * hint is never taken without its poke. The answer carries the hash it matched (`webhookHash`), for the
   * caller's constant-time comparison. Undefined when none matches.
   */
  takeWebhook(capabilityHash: string, now: number): Promise<JobRecord | undefined>;

  // shared provider rate limits (every process and replica using one key)
  /**
   * Atomically: drop starts of `bucket` older than the window; when fewer than `limit` remain, record a
   * start at `now` and answer 0; otherwise answer the ms until the oldest counted start leaves the
   * window (at least 1), recording nothing.
   */
  takeRateSlot(q: RateSlotQuery): Promise<number>;

  // reports
  /** Per tool: jobs created since `since` (of `principal`, when given), and how many of them failed. */
  toolOutcomes(q: { since: number; principal?: string }): Promise<ToolOutcome[]>;
  /** Jobs not final yet, counted by status (every principal's; the operator's /metrics). */
  openJobCounts(): Promise<Record<string, number>>;
  /**
   * Reservations whose outcome is unknown, oldest first: uncertain ones and reserved ones created before
   * `olderThan` (counted as uncertain by reports); of `principal` when given; at most `limit` (100).
   */
  uncertainReservations(q: UncertainQuery): Promise<Reservation[]>;
  /** How many of `principal`'s reservations were refunded at or after `since`, and their credits. */
  refundedSince(q: { principal: string; since: number }): Promise<{ count: number; credits: number }>;
  /**
   * `principal`'s credits per provider and UTC day (the reservation's day) from `fromDay` on, by state
   * ('reserved' rows created before `olderThan` as uncertain); only days with a reservation, ordered by
   * provider then day. Read-only (the spend view's chart).
   */
  spendByDay(q: DaySpendQuery): Promise<DaySpend[]>;
  /** `principal`'s reservations refunded at or after `since`, latest refund first, at most `limit`. */
  refundsSince(q: RefundQuery): Promise<Reservation[]>;
  /** `principal`'s refunds at or after `since` (refund time) per provider: count and credits, by provider. */
  refundsByProvider(q: { principal: string; since: number }): Promise<ProviderRefunds[]>;

  // spend
  /** Atomically: refuse when committed + reserved + uncertain + credits would pass a cap. */
  reserve(r: ReserveRequest): Promise<ReserveResult>;
  /**
   * reserved|uncertain -> committed (with the job id). `credits`, when given, replaces the reserved
   * amount with what the provider says it actually charged (token-billed calls).
   */
  commit(id: string, jobId: string, now: number, credits?: number): Promise<void>;
  /** reserved|uncertain -> released (the provider refused; nothing was charged). */
  release(id: string, now: number): Promise<void>;
  /**
   * committed|uncertain -> refunded (the accepted job failed and the provider gives the credits back): the
   * reservation `id`, and any reservation committed to the job `id` (a create answered with a job that
   * jobs_track had recorded under its own id).
   */
  refund(id: string, now: number): Promise<void>;
  /** reserved -> uncertain. */
  markUncertain(id: string, now: number): Promise<void>;
  /** Reservations still 'reserved' and created before `olderThan` count as uncertain in reports. */
  spendTotals(q: SpendQuery): Promise<SpendTotals[]>;
  /** Newest first; only `principal`'s when given. */
  recentSpend(limit: number, principal?: string): Promise<Reservation[]>;
  /** One reservation by id (its principal is checked by the caller). */
  getReservation(id: string): Promise<Reservation | undefined>;
  /** A reservation committed (or refunded) to the job `jobId`, if any: whether some call paid for it. */
  reservationOfJob(jobId: string): Promise<Reservation | undefined>;

  // consent tokens
  putToken(t: ConsentToken): Promise<void>;
  /**
   * Atomically check and use once. 'mismatch' = exists but bound to another tool or arguments. A token of
   * another caller (principal) is 'unknown': nobody learns that another principal's token exists.
   */
  consumeToken(
    tokenHash: string,
    tool: string,
    argsHash: string,
    callerId: string,
    now: number,
  ): Promise<ConsumeResult>;
  /**
   * Give back a token this call consumed at `usedAt` and then could not act on (a cap refused the call):
   * it works once more. Only that exact use is undone (used_at = usedAt), so nothing else is revived.
   */
  returnToken(tokenHash: string, usedAt: number): Promise<void>;

  // pending approvals (app approvals a person clicks; see approvals-sql.ts)
  /** Store a new pending approval. */
  putApproval(a: PendingApproval): Promise<void>;
  /**
   * Atomically take a pending approval of `principal` that has not expired (pending -> approved, one
   * conditional UPDATE … RETURNING): of many takers across processes and replicas exactly one gets it;
   * the others are told 'used'. `usedAt` (= now) is what `returnApproval` undoes. Another principal's
   * approval is 'unknown', like one never issued; a declined one 'declined'; past expiresAt (inclusive)
   * 'expired'.
   */
  takeApproval(idHash: string, principal: string, now: number): Promise<TakeApprovalResult>;
  /**
   * Atomically decline a pending approval of `principal` (pending -> declined, final): the approval it
   * closed, or why not (the same answers as takeApproval).
   */
  declineApproval(idHash: string, principal: string, now: number): Promise<DeclineApprovalResult>;
  /**
   * Give back an approval taken at `usedAt` whose call was then refused before anything was sent (a cap):
   * approved -> pending, so it can be approved again until it expires. Only that exact take is undone.
   */
  returnApproval(idHash: string, usedAt: number): Promise<void>;
  /** The fallback token `tokenHash` was used at `now`: its pending approval becomes approved (used). */
  useApprovalToken(tokenHash: string, now: number): Promise<void>;
  /** Undo `useApprovalToken` of that exact use (the call was refused before anything was sent). */
  returnApprovalToken(tokenHash: string, usedAt: number): Promise<void>;
  /** Record the reservation the approval's call runs under (by approval id hash or by its token's hash). */
  bindApprovalReservation(by: { idHash?: string; tokenHash?: string }, reservation: string): Promise<void>;
  /**
   * Decline the live pending approvals of this exact call (tool, arguments, principal, caller): a form is
   * about to be asked for it instead. Answers how many were closed.
   */
  supersedeApprovals(q: {
    tool: string;
    argsHash: string;
    principal: string;
    callerId: string;
    now: number;
  }): Promise<number>;

  // idempotency keys (global: they survive restarts and caller changes)
  /** Atomically claim `key` for (tool, argsHash), or report the existing claim. */
  claimIdempotency(key: string, tool: string, argsHash: string, now: number): Promise<ClaimResult>;
  /** Attach the job created under the key. */
  settleIdempotency(key: string, jobId: string): Promise<void>;
  /**
   * Attach `jobId` to the key whose call reserved `reservationId` and ended without a job (an unknown
   * outcome settled later by jobs_track); returns how many keys it settled (0 or 1).
   */
  settleIdempotencyByReservation(reservationId: string, jobId: string): Promise<number>;
  /**
   * The call under a pending `key` reserved `reservationId`: from now on the key knows its reservation, so a
   * crash mid-call leaves a key that jobs_track can settle and maintenance keeps while the reservation is open.
   */
  bindIdempotencyReservation(key: string, reservationId: string): Promise<void>;
  /** The call under `key` ended without knowing whether the provider accepted: keep the key bound. */
  markIdempotencyUnknown(key: string, reservationId: string): Promise<void>;
  /** Forget a claim whose call failed before the provider accepted anything (so the key can be reused). */
  dropIdempotency(key: string): Promise<void>;

  // observed prices (append-only)
  recordObservation(o: PriceObservation): Promise<void>;
  /** Summary of the observations of (tool, priceKey); undefined when there are none. */
  observedPrice(tool: string, priceKey: string): Promise<ObservedPrice | undefined>;
  /** Every observation, oldest first (for export). */
  listObservations(): Promise<PriceObservation[]>;
  /** True when another reservation or job of the provider may have moved its balance (see ActivityQuery). */
  otherActivity(q: ActivityQuery): Promise<boolean>;

  /**
   * Maintenance: delete consent tokens and approvals that expired before `tokensBefore` (used or not) and idempotency
   * keys created before `keysBefore`, except a key whose outcome is not settled: outcome 'unknown', a
   * 'pending' key that names no reservation (its call died mid-flight), or a key whose reservation is
   * still 'reserved' or 'uncertain'. Those stay bound until settled, so the same key never sends again.
   * Reservations and jobs are the ledger and are never purged.
   */
  purge(q: { tokensBefore: number; keysBefore: number }): Promise<PurgeCounts>;

  close(): Promise<void>;
}
