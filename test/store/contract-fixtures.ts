/**
 * Shared builders for the Store contract suite.
 */
import { expect } from 'vitest';
import type { JobRecord, ReserveRequest, Reservation, Store } from '../../src/store/store.js';

export interface StoreRef {
  readonly store: Store;
}

export const T0 = 1_700_000_000_000;
export const DAY = '2025-03-01';

export function makeJob(over: Partial<JobRecord> & { id: string }): JobRecord {
  return {
    provider: 'acme',
    tool: 'acme_image',
    providerJobId: `p-${over.id}`,
    argsHash: 'h-args',
    args: { prompt: 'a cat', size: { w: 512, h: 512 }, tags: ['x', 'y'], seed: null },
    price: 1.5,
    callerId: 'caller-a',
    principal: 'principal-a',
    status: 'pending',
    providerStatus: null,
    progress: null,
    outputs: [],
    error: null,
    polls: 0,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: null,
    // What the store answers for a job inserted without them: due at once, no errors, no webhook.
    nextPollAt: over.createdAt ?? T0,
    pollErrors: 0,
    webhookHash: null,
    ...over,
  };
}

/** A running acme job of `providerJobId` created elsewhere (another stdio process), due at once. */
export function runningJob(providerJobId: string, now: number, extra: Partial<JobRecord> = {}): JobRecord {
  return makeJob({
    id: `job_${now.toString(36)}${providerJobId.padEnd(16, '0').slice(0, 16)}`,
    tool: 'acme_image_create',
    providerJobId,
    argsHash: 'x',
    args: { prompt: 'a boat' },
    price: 2,
    callerId: 'stdio:elsewhere',
    principal: 'local',
    status: 'running',
    providerStatus: 'processing',
    createdAt: now,
    updatedAt: now,
    nextPollAt: now,
    ...extra,
  });
}

let seq = 0;

/** A reservation request with a fresh id; 1 credit for acme by caller-a on DAY, no caps. */
export function makeReserve(over: Partial<ReserveRequest> = {}): ReserveRequest {
  seq += 1;
  return {
    id: `res-${String(seq).padStart(6, '0')}`,
    provider: 'acme',
    tool: 'acme_image',
    callerId: 'caller-a',
    principal: 'principal-a',
    day: DAY,
    credits: 1,
    argsHash: 'h-args',
    now: T0,
    ...over,
  };
}

/** Reserve and expect success; returns the reservation. */
export async function reserveOk(store: Store, over: Partial<ReserveRequest> = {}): Promise<Reservation> {
  const res = await store.reserve(makeReserve(over));
  if (!res.ok) throw new Error(`expected reserve to succeed, got ${JSON.stringify(res)}`);
  return res.reservation;
}

/** The reservation with `id`, as reported by recentSpend. */
export async function findReservation(store: Store, id: string): Promise<Reservation | undefined> {
  const listed = (await store.recentSpend(1000)).find((r) => r.id === id);
  expect(await store.getReservation(id)).toEqual(listed);
  return listed;
}
