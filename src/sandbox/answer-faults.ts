/**
 * Faults of an answer, applied after a provider module has done its work (the job exists): a late
 * answer, a body cut off half-way, a 502 from a gateway, and answers that echo the caller's key (a
 * hostile or careless provider). Which apply is read from markers in the request body, or, for echoing,
 * from the sandbox option `echoKey` (every answer, status polls and balances included).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ANSWER_FAULTS, badGateway, findFaultsIn, type Fault } from './faults.js';
import { textReply, type JsonBody, type Reply } from './types.js';

export function answerFaults(body: JsonBody): Set<Fault> {
  const all = body.kind === 'json' ? findFaultsIn(body.value) : new Set<Fault>();
  return new Set([...all].filter((f) => ANSWER_FAULTS.includes(f)));
}

function authOf(headers: IncomingHttpHeaders): string {
  const h = headers.authorization ?? headers['x-api-key'] ?? '';
  return Array.isArray(h) ? h.join(',') : h;
}

const ECHO_FIELDS = /^(msg|message|reason|detail|error|error_message)$/;

/** Append the auth header to every message-like string, and add it as a field of its own. */
function echo(value: unknown, auth: string, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => echo(v, auth, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      typeof v === 'string' && ECHO_FIELDS.test(k)
        ? `${v} (request had Authorization: ${auth})`
        : echo(v, auth, depth + 1);
  }
  if (depth === 0) out.debug_headers = { authorization: auth, 'x-api-key': auth };
  return out;
}

export async function applyAnswerFaults(
  reply: Reply,
  faults: ReadonlySet<Fault>,
  o: { echoKey: boolean; headers: IncomingHttpHeaders; slowMs: number },
): Promise<Reply> {
  if ('abandoned' in reply) return reply;
  let out = reply;
  if ((o.echoKey || faults.has('echokey')) && 'json' in out) out = { ...out, json: echo(out.json, authOf(o.headers)) };
  const accepted = out.status >= 200 && out.status < 300;
  if (!accepted) return out;
  if (faults.has('late')) await new Promise((r) => setTimeout(r, o.slowMs));
  if (faults.has('lost')) return badGateway();
  if (faults.has('cutoff') && 'json' in out) {
    const text = JSON.stringify(out.json);
    return textReply(200, text.slice(0, Math.max(1, Math.floor(text.length / 2))), 'application/json; charset=utf-8');
  }
  return out;
}
