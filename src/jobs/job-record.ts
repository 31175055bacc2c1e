/** A job's first ledger record, and its id. */
import { randomBytes } from 'node:crypto';
import { requestKey } from '../request-keys.js';
import type { JobRecord } from '../store/store.js';
import type { JobTool } from './ledger.js';

export interface NewJob {
  id: string;
  tool: JobTool;
  providerJobId: string;
  argsHash: string;
  args: Record<string, unknown>;
  price: number | null;
  callerId: string;
  principal: string;
}

/** Time-ordered, unguessable job ids: job_<ms base36><random>. */
export function newJobId(now: number): string {
  return `job_${now.toString(36)}${randomBytes(8).toString('hex')}`;
}

/**
 * The ledger record of a job just accepted (status pending, nothing polled yet), first polled by the
 * background worker `firstPollMs` from now (default: the operation's poll interval). A job created with
 * the request's own provider key (--byok) is marked, and the worker never polls it: only a request that
 * sends a key can.
 */
export function newJobRecord(
  n: NewJob,
  now: number,
  firstPollMs = (n.tool.op.job?.pollSeconds ?? 5) * 1000,
): JobRecord {
  const byok = requestKey(n.tool.provider) !== undefined;
  return {
    id: n.id,
    provider: n.tool.provider,
    tool: n.tool.name,
    providerJobId: n.providerJobId,
    argsHash: n.argsHash,
    args: n.args,
    price: n.price,
    callerId: n.callerId,
    principal: n.principal,
    status: 'pending',
    providerStatus: null,
    progress: null,
    outputs: [],
    error: null,
    polls: 0,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    nextPollAt: byok ? null : now + firstPollMs,
    ...(byok ? { byok: true } : {}),
  };
}
