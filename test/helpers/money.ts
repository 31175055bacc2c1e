/** Shared pieces of the money-path fault tests: a stdio server on Phaya's wire, and request counters. */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from './in-memory.js';

export const PHAYA_DEFAULT = 'https://api.phaya.io/api/v1';
/** Phaya text-to-image: 1 credit, no consent needed. */
export const T2I = 'phaya_text_to_image';
export const T2I_PATH = '/phaya/api/v1/text-to-image/generate';

export function phayaEnv(s: Sandbox, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PHAYA_BASE: s.baseUrl('phaya', PHAYA_DEFAULT),
    PHAYA_API_KEY: s.key,
    MEDIAGEN_STATE_DIR: tempDir(),
    MEDIAGEN_POLL_MS: '100',
    ...extra,
  };
}

/** Provider requests the sandbox received for one path (query string ignored). */
export function hits(s: Sandbox, path: string, method = 'POST'): number {
  return s.stats().requests.filter((r) => r.method === method && r.path.split('?')[0] === path).length;
}

export const sc = (r: CallToolResult): Record<string, unknown> =>
  (r.structuredContent ?? {}) as Record<string, unknown>;

export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The spend_report totals of one provider, all time. */
export function totals(report: CallToolResult, provider: string): Record<string, number> | undefined {
  const rows = sc(report).providers as { provider: string; all_time: Record<string, number> | null }[];
  return rows.find((r) => r.provider === provider)?.all_time ?? undefined;
}

/** Route keys of job status polls (`<provider> <METHOD> <template>` in the sandbox's byRoute counters). */
const STATUS_ROUTE =
  /^\S+ (GET|HEAD|POST) \S*(\/status\/\{job_id\}|\/generation\/result\/\{task_id\}|\/v1\/video\/\{jobId\})$/;

/**
 * Provider requests other than job status polls: a server's background worker polls every open job on its
 * own, so a test of what one call sent counts these (status polls are free and create nothing).
 */
export function sentBesidesPolls(s: Sandbox): number {
  return Object.entries(s.stats().byRoute)
    .filter(([route]) => !STATUS_ROUTE.test(route))
    .reduce((sum, [, n]) => sum + n, 0);
}
