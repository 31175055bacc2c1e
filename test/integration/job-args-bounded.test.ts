/**
 * A job's arguments in structuredContent stay bounded whatever they hold: jobs_get bounds them
 * recursively (strings cut, arrays and objects capped in count and depth), jobs_list sends only the prompt
 * (cut to 300) and the scalar arguments of each job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARG_LIMITS } from '../../src/tools/job-view.js';
import { callConfirmed, callTool, sandboxed, type Sandboxed } from '../helpers/sandboxed.js';
import { text } from '../helpers/stdio.js';

let s: Sandboxed;
let bigId: string;

/** Nested `depth` levels, each with `width` children and a long string. */
function nested(depth: number, width: number): unknown {
  if (depth === 0) return 'y'.repeat(5_000);
  return Object.fromEntries(
    Array.from({ length: width }, (_, i) => [`k${i}`, i % 2 ? nested(depth - 1, width) : [nested(depth - 1, width)]]),
  );
}

beforeAll(async () => {
  s = await sandboxed(['--sandbox', '--no-worker']);
  const r = await callConfirmed(s.client, 'phaya_text_to_image', { prompt: 'a small boat' });
  expect(r.isError, text(r)).toBeFalsy();
  const job = await s.app.store.getJob((r.structuredContent as { job_id: string }).job_id);
  if (!job) throw new Error('no job');
  // A job whose recorded arguments are huge and deeply nested (an adopted job can carry anything).
  bigId = `${job.id}b`;
  await s.app.store.insertJob({
    ...job,
    id: bigId,
    providerJobId: `${job.providerJobId}-big`,
    // Final (failed): jobs_get reads it without a provider poll.
    status: 'failed',
    error: 'the provider failed it',
    finishedAt: job.createdAt,
    nextPollAt: null,
    args: {
      prompt: 'p'.repeat(100_000),
      size: '1024x1024',
      seed: 7,
      list: Array.from({ length: 5_000 }, (_, i) => ({ i, s: 'x'.repeat(1_000) })),
      deep: nested(6, 3),
    },
  });
}, 60_000);
afterAll(async () => s?.close());

describe('bounded job arguments', () => {
  it('jobs_list sends the prompt cut to 300 and the scalar arguments only', async () => {
    const r = await callTool(s.client, 'jobs_list', {});
    expect(r.isError, text(r)).toBeFalsy();
    expect(JSON.stringify(r.structuredContent).length).toBeLessThan(20_000);
    const jobs = (r.structuredContent as { jobs: { job_id: string; arguments: Record<string, unknown> }[] }).jobs;
    const big = jobs.find((j) => j.job_id === bigId);
    expect(big?.arguments).toEqual({ prompt: `${'p'.repeat(ARG_LIMITS.listPrompt)}…`, size: '1024x1024', seed: 7 });
  });

  it('jobs_get bounds them recursively: strings cut, arrays and objects capped, depth limited', async () => {
    const r = await callTool(s.client, 'jobs_get', { job_id: bigId });
    const args = (r.structuredContent as { arguments: Record<string, unknown> }).arguments;
    expect(JSON.stringify(args).length).toBeLessThan(500_000);
    expect((args.prompt as string).length).toBe(ARG_LIMITS.chars + 1);
    const list = args.list as unknown[];
    expect(list).toHaveLength(ARG_LIMITS.items + 1);
    expect(list.at(-1)).toBe(`… ${5_000 - ARG_LIMITS.items} more`);
    // args is depth 0, args.deep depth 1: the object at depth ARG_LIMITS.depth (4) is only named.
    type Obj = Record<string, Record<string, Record<string, unknown>>>;
    expect((args.deep as Obj).k1.k1.k1).toBe('{…}');
    expect(((args.deep as Obj).k1.k0 as unknown as unknown[]).length).toBe(1);
  });
});
