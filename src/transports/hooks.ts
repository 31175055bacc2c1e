/**
 * The webhook route, `POST /hooks/<capability>`: a provider's completion hook, taken as a hint and
 * nothing more. The capability in the path is the credential (no bearer token; the Host is still checked).
 * Its SHA-256 is looked up once (Store.takeWebhook clears it: a replay finds nothing) and the job is made
 * due for a status poll at once; the answer, 204, goes straight back. The body is never parsed or trusted:
 * it is counted up to a cap (413 past it) and thrown away, so a hook cannot set a status, a result or a
 * charge. Unknown, used, malformed or finished capabilities get 404. Requests are rate-limited per client
 * address. Provider signatures (ph0ny's HMAC) are not verified: their format is not documented.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoadedCatalogue } from '../catalogue/load.js';
import { CAPABILITY, capabilityHash, HOOK_PATH } from '../jobs/webhook.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { addressKey, hostName, RateLimiter } from './http-guard.js';

/** Hooks per client address: 60 a minute (a provider sends one per job; a flood is cut off). */
export const HOOK_RATE = { requests: 60, perSeconds: 60 } as const;
/** The most body a hook may carry (it is read and thrown away). */
export const HOOK_MAX_BODY = 64 * 1024;

export interface HookOptions {
  store: Pick<Store, 'takeWebhook'>;
  /** Ask the background worker to look at due jobs now (none in this process: the poll waits for one). */
  wake?: () => void;
  logger: Logger;
  now?: () => number;
  rate?: { requests: number; perSeconds: number };
  maxBody?: number;
}

export interface HookRoute {
  /** Serve a request whose path starts with /hooks/ (the Host is checked against `hosts`). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, hosts: Set<string> | undefined): void;
  /** Forget the rate buckets that have refilled. */
  prune(): void;
}

class TooLarge extends Error {}

/** Read the body and throw it away, up to `max` bytes (TooLarge past it; Content-Length checked first). */
function drain(req: IncomingMessage, max: number): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new TooLarge());
  return new Promise((resolve, reject) => {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLarge());
      }
    });
    req.on('end', () => resolve());
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Cache-Control': 'no-store', ...headers }).end();
}

/** Refused before the body was read: the connection closes, so the unread body goes with it. */
const refuse = (res: ServerResponse, status: number, headers: Record<string, string> = {}): void =>
  answer(res, status, { ...headers, Connection: 'close' });

/** True when the stored hash is the one looked up, compared in constant time. */
function sameHash(looked: string, stored: string): boolean {
  const a = Buffer.from(looked, 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

export function hookRoute(o: HookOptions): HookRoute {
  const rate = o.rate ?? HOOK_RATE;
  const limiter = new RateLimiter(rate.requests, rate.perSeconds);
  const maxBody = o.maxBody ?? HOOK_MAX_BODY;
  const now = o.now ?? Date.now;

  async function serve(req: IncomingMessage, res: ServerResponse, secret: string): Promise<void> {
    try {
      await drain(req, maxBody);
    } catch (e) {
      if (e instanceof TooLarge) return refuse(res, 413);
      return; // the client went
    }
    const hash = capabilityHash(secret);
    // One statement uses the capability and makes its job due (a replay finds nothing; a hint is never
    // taken without its poke). The store answers the hash it matched, compared again in constant time.
    const job = await o.store.takeWebhook(hash, now());
    if (!job || typeof job.webhookHash !== 'string' || !sameHash(hash, job.webhookHash)) return answer(res, 404);
    o.wake?.();
    o.logger.info('webhook hint: job due for a status poll now', { job: job.id, provider: job.provider });
    answer(res, 204);
  }

  return {
    handle(req, res, path, hosts) {
      const host = req.headers.host;
      if (hosts && (!host || !hosts.has(hostName(host)))) return refuse(res, 403);
      const wait = limiter.take(addressKey(req.socket.remoteAddress));
      if (wait > 0) return refuse(res, 429, { 'Retry-After': String(wait) });
      if (req.method !== 'POST') return refuse(res, 405, { Allow: 'POST' });
      const secret = path.slice(HOOK_PATH.length);
      if (!CAPABILITY.test(secret)) return refuse(res, 404);
      serve(req, res, secret).catch((err: unknown) => {
        o.logger.warn('webhook hint not taken: the store did not answer', {
          error: (err instanceof Error ? err.message : String(err)).slice(0, 300),
        });
        answer(res, 503, { 'Retry-After': '5' });
      });
    },
    prune: () => limiter.prune(),
  };
}

/**
 * One warning per catalogue whose webhook secret variable is set: the signature is NOT verified, why,
 * and what a hook can and cannot do here.
 */
export function webhookSecretWarnings(
  catalogues: readonly LoadedCatalogue[],
  env: Readonly<Record<string, string | undefined>>,
  publicUrl: string | undefined,
): string[] {
  const out: string[] = [];
  for (const c of catalogues) {
    const w = c.webhooks;
    if (!w?.secretEnv || !env[w.secretEnv]?.trim()) continue;
    out.push(
      `${w.secretEnv} is set, but ${c.provider} webhook signatures are NOT verified: ${w.unverified}. ` +
        `A hook is only a hint: its capability (single use, issued for one open job) makes this server poll ` +
        `that job now; its body is never read, so it cannot set a status, a result or a charge` +
        (publicUrl ? '.' : '; and without --public-url no hooks are sent at all.'),
    );
  }
  return out;
}
