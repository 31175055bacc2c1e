/**
 * The HTTP side of per-request provider keys: X-Mediagen-Key-<Provider> headers are refused with 400
 * when the server runs without --byok (a key sent to a server that would silently use its own instead is
 * a caller's mistake worth saying), and a malformed one is refused with --byok. The 400 names the header,
 * never its value; so does one naming a provider no catalogue here describes (with the ones it may
 * name). With --byok the headers stay on the request: the tool call reads them from the SDK's
 * requestInfo and uses them for that call only (request-keys.ts).
 */
import type { IncomingMessage } from 'node:http';
import { hasKeyHeaders, keysFromHeaders } from '../request-keys.js';

export function keyHeaders(
  req: IncomingMessage,
  providers: readonly string[] | undefined,
): { ok: true } | { ok: false; message: string } {
  if (!hasKeyHeaders(req.headers)) return { ok: true };
  if (!providers)
    return {
      ok: false,
      message:
        'Bad Request: this server does not accept per-request provider keys (X-Mediagen-Key-* headers); it was not started with --byok',
    };
  try {
    for (const provider of keysFromHeaders(req.headers).keys())
      if (!providers.includes(provider))
        return {
          ok: false,
          message: `Bad Request: X-Mediagen-Key-${provider} names no provider this server serves; it may name ${providers.join(', ')}`,
        };
    return { ok: true };
  } catch (e) {
    return { ok: false, message: `Bad Request: ${(e as Error).message}` };
  }
}
