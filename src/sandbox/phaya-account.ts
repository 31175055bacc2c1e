/**
 * Phaya's account and catalogue-listing routes. The balance shape is documented (phaya.md, from the
 * skill): `{success, user_id, credits_balance (float), credits_balance_formatted ("84.90 เครดิต"),
 * currency: "THB", cached}`; the sandbox account always holds the skill's example balance, 84.90,
 * and is never debited (like Media.io's fixed sandbox balance). Every other shape here is not
 * documented and is the sandbox's guess: `{success: true, ...}` like the documented answers.
 */
import { DOWNLOAD_PLATFORMS, TTS_LANGUAGES, VOICES } from './phaya-services.js';
import { clampLimit } from './phaya-jobs.js';
import { jsonReply, type ParsedRequest, type Reply } from './types.js';

/** The sandbox account's balance in credits (THB): the skill's own example value. */
export const SANDBOX_BALANCE = 84.9;
/** The sandbox account's user id (Phaya's users are Supabase UUIDs). */
export const SANDBOX_USER_ID = '5a4db0c5-0000-4000-8000-5a4db0c50001';

export function credits(): Reply {
  return jsonReply(200, {
    success: true,
    user_id: SANDBOX_USER_ID,
    credits_balance: SANDBOX_BALANCE,
    credits_balance_formatted: `${SANDBOX_BALANCE.toFixed(2)} เครดิต`,
    currency: 'THB',
    cached: false,
  });
}

export function profile(): Reply {
  return jsonReply(200, {
    success: true,
    user_id: SANDBOX_USER_ID,
    email: 'sandbox@example.com',
    display_name: 'Sandbox User',
    credits_balance: SANDBOX_BALANCE,
    currency: 'THB',
    created_at: '2026-01-01T00:00:00Z',
  });
}

/** `GET /user/credits/history?limit=20`: nothing is ever debited in the sandbox, so it is empty. */
export function creditsHistory(req: ParsedRequest): Reply {
  return jsonReply(200, {
    success: true,
    user_id: SANDBOX_USER_ID,
    transactions: [],
    limit: clampLimit(req.query.get('limit')),
  });
}

export function invalidateCache(): Reply {
  return jsonReply(200, { success: true, message: 'Credits cache invalidated' });
}

/** `GET /text-to-speech/voices` (no auth): the 19 documented Gemini TTS voices. */
export function voices(): Reply {
  return jsonReply(200, {
    success: true,
    voices: VOICES.map((name) => ({ name, default: name === 'Zephyr' })),
    default_voice: 'Zephyr',
    languages: [...TTS_LANGUAGES],
  });
}

export function supportedPlatforms(): Reply {
  return jsonReply(200, { success: true, platforms: [...DOWNLOAD_PLATFORMS] });
}
