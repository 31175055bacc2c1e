/** ph0ny Video API wire helpers for the sandbox unit tests. */
import { bearerCall } from './sandbox-http.js';

/** ph0ny's documented default base URL. */
export const PH0NY_BASE = 'https://persona-labsvoice-api-production.up.railway.app/v1';

/**
 * Call a ph0ny route under /v1; `key: null` sends no Authorization. A string body is sent raw, anything else as
 * JSON; an answer that is not JSON (HTML 503) is left in `text`.
 */
export const call = bearerCall((sb) => sb.baseUrl('ph0ny', PH0NY_BASE));
