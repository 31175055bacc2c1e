/**
 * Webhook capabilities: the secret in a hook URL this server gives a provider (`<public-url>/hooks/<cap>`).
 * 32 random bytes, base64url (43 characters), one per job; only its SHA-256 is stored, and a hook uses it
 * once (Store.takeWebhook). A hook is a hint: it makes the job due for a status poll now, nothing more.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Random bytes in a capability: 256 bits, far past the 128 an unguessable URL needs. */
export const CAPABILITY_BYTES = 32;
/** What a capability looks like (base64url, no padding), checked before anything is looked up. */
export const CAPABILITY = /^[A-Za-z0-9_-]{43}$/;
/** The path of the hook route under the server's public URL. */
export const HOOK_PATH = '/hooks/';

export interface Capability {
  /** Goes into the URL sent to the provider; never stored, logged or returned. */
  secret: string;
  /** SHA-256 (hex) of the secret: what the job row keeps. */
  hash: string;
}

export function capabilityHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newCapability(): Capability {
  const secret = randomBytes(CAPABILITY_BYTES).toString('base64url');
  return { secret, hash: capabilityHash(secret) };
}

/** Where a provider should send the completion hook: `<public-url>/hooks/<capability>`. */
export function hookUrl(publicUrl: string, secret: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${HOOK_PATH}${secret}`;
}
