/**
 * Every text a tool answers with that tells an agent what to call next (src/tools, src/guard, src/jobs) is
 * said on the command line as the command a person runs. The samples are the tools' own sentences; the
 * end-to-end flows (a started job, consent by token, a declined question) are in test/e2e/cli-commands and
 * terminal-tty.
 */
import { describe, expect, it } from 'vitest';
import { nextStep } from '../../src/tools/job-view.js';
import { forPerson } from '../../src/commands/person.js';
import type { JobRecord } from '../../src/store/store.js';

const ctx = { argv: ['call', 'phaya_seedance', 'prompt=a fox in snow', 'duration=8s'] };
/** Wording that addresses an agent or names a tool instead of a command. */
const AGENT =
  /\bjobs_(wait|get|list|cancel|track)\b(?! )|(?<!mediagen-mcp (call )?)\b(jobs_\w+|spend_report)\b|[Tt]he user|confirm_token|\bcall \w+ again\b|Call again/;

const samples: [string, RegExp][] = [
  // src/guard/consent.ts (token path)
  [
    'CONFIRMATION_REQUIRED: Seedance (phaya_seedance) with prompt="a fox". Price: 6 credits. Needs the user\'s approval: the price is at or above 5. Nothing was sent.\nShow the user the price and ask; never confirm on their behalf. If they approve, call phaya_seedance again with the same arguments plus "confirm_token": "ct_abc-_1" (valid once, for 10 min).',
    /Needs your approval: .*\nIf you approve, run \(valid once, for 10 min; .*\):\n {2}mediagen-mcp call phaya_seedance 'prompt=a fox in snow' duration=8s --confirm-token ct_abc-_1$/,
  ],
  // src/guard/consent.ts (the form answered No)
  [
    'CONSENT_DECLINED: The user did not approve phaya_seedance (decline). Nothing was sent or charged.',
    /^CONSENT_DECLINED: Not approved: phaya_seedance \(answered No\)\. Nothing was sent or charged\.$/,
  ],
  // src/tools/account-tools.ts (quote)
  ["Needs the user's consent: the price (6 credits) is at or above 5.", /^Needs your consent: /],
  [
    'This server is stateless: consent goes by confirm_token (the call answers CONFIRMATION_REQUIRED with a token; ask the user, then repeat the call with it).',
    /--confirm-token T/,
  ],
  [
    'To settle one: if the provider shows its job, jobs_track with the tool, the provider job id and the reservation id.',
    /mediagen-mcp call jobs_track tool=TOOL provider_job_id=ID reservation_id=RES\./,
  ],
  // src/tools/jobs-tools.ts
  [
    'Another call is still downloading this job; call again with download: true to see the saved files.',
    /run mediagen-mcp jobs wait <job id> --download DIR again/,
  ],
  [
    'The download did not complete within 30 s (the partial file was removed); the job and its URLs are below. Call jobs_wait again with download: true to finish it.',
    /Run mediagen-mcp jobs wait <job id> --download DIR to finish it\./,
  ],
  ['More: call jobs_list with cursor "c_12".', /^More: mediagen-mcp jobs list cursor=c_12$/],
  // src/jobs/ledger.ts
  ['No job "job_x" in the ledger. jobs_list shows the known jobs.', /mediagen-mcp jobs list shows the known jobs\./],
  // src/tools/paid-outcome.ts
  [
    'Check phaya\'s dashboard or history for a job started at this time before trying again; if you find it, jobs_track {"tool": "phaya_seedance", "provider_job_id": "<its id>", "reservation_id": "r_1"} settles the reservation and tracks the job. spend_report lists the uncertain reservation.',
    /mediagen-mcp call jobs_track tool=phaya_seedance 'provider_job_id=<its id>' reservation_id=r_1 settles.*mediagen-mcp spend lists/,
  ],
  [
    'The job exists at phaya. jobs_track {"tool":"phaya_seedance","provider_job_id":"p1","reservation_id":"r_1"} records it (nothing is charged again); jobs_list shows it once recorded.',
    /mediagen-mcp call jobs_track tool=phaya_seedance provider_job_id=p1 reservation_id=r_1 records it.*mediagen-mcp jobs list shows it/,
  ],
  // src/tools/spend-view.ts
  [
    'If the job is there, jobs_track with tool phaya_seedance, its provider job id and reservation_id r_1 settles this reservation (committed, or refunded if the job failed).',
    /mediagen-mcp call jobs_track tool=phaya_seedance provider_job_id=ID reservation_id=r_1 settles/,
  ],
  // src/tools/track-tool.ts
  ['No reservation "r_9". spend_report lists them.', /mediagen-mcp spend lists them/],
  [
    'spend_report shows it settled in a few seconds; only if that call ends OUTCOME_UNKNOWN does jobs_track settle it.',
    /^mediagen-mcp spend shows it .* does mediagen-mcp call jobs_track settle it\.$/,
  ],
  // src/tools/paid-keys.ts
  ['Call again with the same idempotency_key in a few seconds to get its job.', /^Run the same command/],
  // src/tools/paid.ts, src/tools/handler.ts, src/guard/approval.ts
  ['Nothing was sent or charged; ask for the call again.', /run the command again/],
  ['its call ran as job job_1 (phaya_seedance); see jobs_get for it', /see mediagen-mcp jobs get/],
  [
    'its call was sent or is being sent now; see jobs_list and spend_report',
    /mediagen-mcp jobs list and mediagen-mcp spend/,
  ],
];

describe('tool texts said for a person on the command line', () => {
  it.each(samples)('%s', (text, said) => {
    const out = forPerson(text, ctx);
    expect(out).toMatch(said);
    expect(out).not.toMatch(AGENT);
  });

  it('the next step of a running job (src/tools/job-view.ts) is the jobs wait command, or nothing while waiting', () => {
    const job = { id: 'job_abc', status: 'running', provider: 'phaya', byok: false } as unknown as JobRecord;
    const started = `Job job_abc started: phaya_seedance at phaya. Price: 6 credits.\n${nextStep(job)}`;
    expect(forPerson(started, ctx)).toBe(
      'Job job_abc started: phaya_seedance at phaya. Price: 6 credits.\nTo wait for the result: mediagen-mcp jobs wait job_abc',
    );
    expect(forPerson(started, { ...ctx, waiting: true })).toBe(
      'Job job_abc started: phaya_seedance at phaya. Price: 6 credits.',
    );
  });
});
