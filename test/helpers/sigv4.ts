/**
 * An independent SigV4 verifier for presigned S3 URLs (query-string authentication), written from AWS's
 * documentation ("Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"), sharing no
 * code with the server's signer: the canonical request, the string to sign, the HMAC-SHA256 key chain,
 * the signature compared in constant time, the credential's access key id and region, a signing date not
 * in the future, and the expiry checked.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface VerifyOptions {
  method: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The region the link must be scoped to (the store's). */
  region: string;
  /** Headers the request will send (names any case); every signed header but host must be among them. */
  headers?: Record<string, string>;
  /** Default: now. */
  now?: Date;
}

export type Verdict = { ok: true; signedHeaders: string[]; expiresAt: Date } | { ok: false; reason: string };

/** RFC 3986 percent-encoding as SigV4 wants it: only A-Z a-z 0-9 - _ . ~ are left as they are. */
function uriEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer => createHmac('sha256', key).update(s, 'utf8').digest();

/** The signature a presigned request must carry (exported for the documented example). */
export function expectedSignature(url: URL, method: string, secret: string, headers: Record<string, string>): string {
  const q = url.searchParams;
  const date = q.get('X-Amz-Date') ?? '';
  const [, day, region, service, term] = (q.get('X-Amz-Credential') ?? '').split('/');
  const scope = [day, region, service, term].join('/');
  const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalUri = url.pathname
    .split('/')
    .map((seg) => uriEncode(decodeURIComponent(seg)))
    .join('/');
  const canonicalQuery = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signed
    .map((h) => `${h}:${(h === 'host' ? url.host : (lower[h] ?? '')).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    method.toUpperCase(),
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signed.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), term);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** Whether `href` is a valid presigned request for `o.method` with these credentials, now. */
export function verifyPresigned(href: string, o: VerifyOptions): Verdict {
  const url = new URL(href);
  const q = url.searchParams;
  for (const p of [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ])
    if (!q.get(p)) return { ok: false, reason: `no ${p}` };
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { ok: false, reason: 'not AWS4-HMAC-SHA256' };
  const cred = (q.get('X-Amz-Credential') ?? '').split('/');
  if (cred.length !== 5 || cred[4] !== 'aws4_request' || cred[3] !== 's3')
    return { ok: false, reason: 'bad credential scope' };
  if (cred[0] !== o.accessKeyId) return { ok: false, reason: 'another access key id' };
  if (cred[2] !== o.region) return { ok: false, reason: 'another region' };
  const date = q.get('X-Amz-Date') ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!m || cred[1] !== date.slice(0, 8)) return { ok: false, reason: 'bad X-Amz-Date' };
  const signedAt = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (signedAt > (o.now ?? new Date()).getTime()) return { ok: false, reason: 'X-Amz-Date is in the future' };
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) return { ok: false, reason: 'bad X-Amz-Expires' };
  const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signed.includes('host')) return { ok: false, reason: 'host is not signed' };
  const headers = o.headers ?? {};
  const given = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  const missing = signed.filter((h) => h !== 'host' && !given.has(h));
  if (missing.length) return { ok: false, reason: `signed header(s) not sent: ${missing.join(', ')}` };
  const want = Buffer.from(expectedSignature(url, o.method, o.secretAccessKey, headers), 'hex');
  const got = Buffer.from(q.get('X-Amz-Signature') ?? '', 'hex');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return { ok: false, reason: 'signature does not match' };
  const expiresAt = new Date(signedAt + expires * 1000);
  if ((o.now ?? new Date()).getTime() > expiresAt.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, signedHeaders: signed, expiresAt };
}
