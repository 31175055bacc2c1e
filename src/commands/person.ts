/**
 * The tools' answers are written for an agent ("Call jobs_wait with {…}", "The user did not approve",
 * "call it again plus confirm_token"). On the command line the reader is a person (or an agent driving a
 * shell): the same facts, as the commands to run. `--json` output is never rewritten.
 */

export interface PersonContext {
  /** The command line as typed (after `mediagen-mcp`), to say how to run it again. */
  argv: readonly string[];
  /** The command already waits for the job it starts (`--wait`, `--download`). */
  waiting?: boolean;
}

const BIN = 'mediagen-mcp';

/** A word as a POSIX shell reads it back. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The same command line, without any --confirm-token, plus the given one. */
export function againWith(argv: readonly string[], token: string): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--confirm-token') i++;
    else if (!argv[i].startsWith('--confirm-token=')) kept.push(argv[i]);
  }
  return [BIN, ...kept, '--confirm-token', token].map(shellWord).join(' ');
}

/** `{"tool": "t", "reservation_id": "r"}` -> `tool=t reservation_id=r` (left as is when it is not JSON). */
function asWords(json: string): string {
  try {
    const o = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(o)
      .map(([k, v]) => shellWord(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`))
      .join(' ');
  } catch {
    return json;
  }
}

const ACTIONS: Record<string, string> = { decline: 'answered No', cancel: 'no answer', accept: 'answered No' };

type Rule = [RegExp, string | ((...m: string[]) => string)];

function rules(ctx: PersonContext): Rule[] {
  return [
    // A job was started (or is still running).
    [
      /(\n| )?Call jobs_wait with \{"job_id": "([^"]+)"\}(?: \(with the header\))? to wait for the result\./g,
      (_m, sep: string | undefined, id) =>
        ctx.waiting ? '' : `${sep ?? ''}To wait for the result: ${BIN} jobs wait ${id}`,
    ],
    // Consent by token.
    [
      /Show the user the price and ask; never confirm on their behalf\. If they approve, call \S+ again with the same arguments plus "confirm_token": "([^"]+)" \(valid once, for (\d+) min\)\./g,
      (_m, token, min) =>
        `If you approve, run (valid once, for ${min} min; an agent asks the person first, never approves for them):\n` +
        `  ${againWith(ctx.argv, token)}`,
    ],
    [/Needs the user's (approval|consent)/g, 'Needs your $1'],
    [
      /The user did not approve (\S+) \((\w+)\)\./g,
      (_m, tool, action) => `Not approved: ${tool} (${ACTIONS[action] ?? action}).`,
    ],
    [
      /This server is stateless: consent goes by confirm_token \([^)]*\)\./g,
      'Consent goes by token: the call answers CONFIRMATION_REQUIRED with a token; run it again with --confirm-token T.',
    ],
    // Downloads.
    [
      /Another call is still downloading this job; call again with download: true to see the saved files\./g,
      `Another command is still downloading this job; run ${BIN} jobs wait <job id> --download DIR again to see the saved files.`,
    ],
    [
      /Call jobs_wait again with download: true to finish it\./g,
      `Run ${BIN} jobs wait <job id> --download DIR to finish it.`,
    ],
    // Paging.
    [/More: call jobs_list with cursor "([^"]+)"\./g, (_m, c) => `More: ${BIN} jobs list cursor=${shellWord(c)}`],
    // Settling an uncertain call.
    [/jobs_track (\{[^}]*\})/g, (_m, json) => `${BIN} call jobs_track ${asWords(json)}`],
    [
      /jobs_track with tool (\S+), its provider job id and reservation_id (\S+) settles/g,
      (_m, tool, res) => `${BIN} call jobs_track tool=${tool} provider_job_id=ID reservation_id=${res} settles`,
    ],
    [
      /jobs_track with the tool, the provider job id and the reservation id\./g,
      `${BIN} call jobs_track tool=TOOL provider_job_id=ID reservation_id=RES.`,
    ],
    [/Call again with the same idempotency_key/g, 'Run the same command (same idempotency_key) again'],
    [/ask for the call again/g, 'run the command again'],
    [/see jobs_get for it/g, `see ${BIN} jobs get`],
    // Any tool name left: the command that runs it.
    [/\bjobs_(list|get|wait|cancel)\b/g, `${BIN} jobs $1`],
    [/\bspend_report\b/g, `${BIN} spend`],
    [/\bjobs_track\b/g, `${BIN} call jobs_track`],
  ];
}

/** A tool's text answer, said to the person at the command line. */
export function forPerson(text: string, ctx: PersonContext): string {
  let out = text;
  for (const [re, to] of rules(ctx)) out = out.replace(re, to as string);
  return out;
}
