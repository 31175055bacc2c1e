/**
 * Scripted faults: a marker such as `sandbox:fail` anywhere in a create call's prompt makes the sandbox
 * misbehave on purpose. Markers combine (e.g. `sandbox:slow sandbox:fail` stalls, then creates a job
 * that fails). Provider modules decide which text to scan and how each fault looks on their wire.
 */
import { textReply, type Reply } from './types.js';

export const FAULTS = [
  'fail', // job is created, then ends failed
  'timeout', // job is created, then ends with the provider's timeout status
  '429', // HTTP 429 + Retry-After, no job
  '5xx', // HTTP 503 text/html, no job (`sandbox:503` is an alias)
  'slow', // the answer is stalled for slowMs; the job is created only if the client is still there
  'credits', // the provider's "insufficient credits" answer, no job
  'badparams', // the provider's "params error" answer, no job
  // Faults of the answer to a create the provider accepted (the job exists and runs):
  'late', // the answer comes after slowMs, even if the client has gone
  'cutoff', // HTTP 200 with the body cut off half-way
  'lost', // HTTP 502 from a gateway in front of the provider
  'echokey', // the answer echoes the caller's auth header
  // Faults of a finished job's result URL (for download guards):
  'dripurl', // served 1 byte a second
  'hugeurl', // declares 5 GiB
  'loopbackurl', // on another loopback address (127.0.0.2), not the sandbox's own
  'metadataurl', // the cloud metadata address, 169.254.169.254
  // Shapes of a finished job's result (Media.io declares `result` an object; other skills read result[]):
  'objectresult', // the result is an object with the URLs nested under other names, not result[].preview
  // Which file a finished job's image or audio is (media.ts mediaName), for previews:
  'jpeg', // a 1600x1200 JPEG
  'webp', // a 1024x768 WebP
  'bigpng', // a 1200x900 PNG
  'noisy', // a 1536x1536 noisy JPEG (its thumbnail is near the 300 KB cap)
  'bomb', // a PNG of a few KB declaring 50000x50000 pixels
  'truncated', // a PNG cut off half-way
  'longaudio', // a 40 s, 640 KB WAV
] as const;
export type Fault = (typeof FAULTS)[number];

const MARKER = /sandbox:([a-z0-9]+)/gi;
const BY_WORD = new Map<string, Fault>([...FAULTS.map((f): [string, Fault] => [f, f]), ['503', '5xx']]);

/** Every fault marker found in `text` (case-insensitive). Non-strings have none. */
export function findFaults(text: unknown): Set<Fault> {
  const found = new Set<Fault>();
  if (typeof text !== 'string') return found;
  for (const m of text.matchAll(MARKER)) {
    const fault = BY_WORD.get(m[1].toLowerCase());
    if (fault) found.add(fault);
  }
  return found;
}

/** Every fault marker in any string anywhere inside `value` (object values, array items), for routes with no prompt. */
export function findFaultsIn(value: unknown): Set<Fault> {
  const found = new Set<Fault>();
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') for (const f of findFaults(v)) found.add(f);
    else if (depth < 8 && Array.isArray(v)) for (const item of v) walk(item, depth + 1);
    else if (depth < 8 && typeof v === 'object' && v !== null)
      for (const item of Object.values(v)) walk(item, depth + 1);
  };
  walk(value, 0);
  return found;
}

/**
 * `sandbox:charge<N>` in any string inside `value`: the credits a job costs when it completes (0 when
 * absent). Used where the provider documents no per-call price, so observed prices can be tested.
 */
export function chargeIn(value: unknown): number {
  let found = 0;
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') {
      const m = /sandbox:charge(\d{1,6})/i.exec(v);
      if (m && !found) found = Number(m[1]);
    } else if (depth < 8 && Array.isArray(v)) for (const item of v) walk(item, depth + 1);
    else if (depth < 8 && typeof v === 'object' && v !== null)
      for (const item of Object.values(v)) walk(item, depth + 1);
  };
  walk(value, 0);
  return found;
}

/**
 * The fault that rejects a create call outright, if any, in a fixed order of precedence:
 * 429 (the gateway refuses before the app sees it), then 5xx, then credits, then badparams.
 */
export function rejectingFault(faults: Set<Fault>): Fault | undefined {
  return (['429', '5xx', 'credits', 'badparams'] as const).find((f) => faults.has(f));
}

/** A 503 the way a load balancer in front of an API sends it: short HTML, not the provider's JSON. */
export function serviceUnavailable(): Reply {
  const html =
    '<html><head><title>503 Service Temporarily Unavailable</title></head>' +
    '<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>\n';
  return textReply(503, html, 'text/html; charset=utf-8');
}

/** Headers every sandbox 429 carries. */
export const RATE_LIMIT_HEADERS: Readonly<Record<string, string>> = { 'Retry-After': '1' };

/** Faults applied to the answer of a create the provider accepted (see `late`, `cutoff`, `lost`, `echokey`). */
export const ANSWER_FAULTS: readonly Fault[] = ['late', 'cutoff', 'lost', 'echokey'];

/** A 502 from a gateway in front of the provider (the request got through; the answer did not). */
export function badGateway(): Reply {
  return textReply(
    502,
    '<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>\n',
    'text/html',
  );
}

/** Where a finished job's media is, given the faults of its inputs (default: the sandbox's own file). */
export function resultUrl(base: string, name: string, faults: ReadonlySet<Fault>): string {
  if (faults.has('dripurl')) return `${base}/_media/drip/${name}`;
  if (faults.has('hugeurl')) return `${base}/_media/huge/${name}`;
  if (faults.has('loopbackurl')) return `${base.replace('//127.0.0.1:', '//127.0.0.2:')}/_media/${name}`;
  if (faults.has('metadataurl')) return 'http://169.254.169.254/latest/meta-data/' + name;
  return `${base}/_media/${name}`;
}
