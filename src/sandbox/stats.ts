/**
 * The sandbox's request counter. Only provider requests are counted (not `/_sandbox/*`, not `/_media/*`),
 * at the moment they arrive, so a request the client later abandons still counts.
 */

export interface SandboxRequest {
  /** Provider prefix the request was sent under (`(unknown)` for a prefix no module serves). */
  provider: string;
  method: string;
  /** The full request path as sent, query string included, e.g. `/mediaio/user/credits`. */
  path: string;
  /** Parsed JSON body; the raw text if it was not JSON; null if empty. */
  body: unknown;
  /** Epoch milliseconds of arrival. */
  at: number;
  authorized: boolean;
}

export interface SandboxStats {
  total: number;
  byProvider: Record<string, number>;
  /** Keyed `<provider> <METHOD> <route template>`, e.g. `mediaio POST /generation/result/{task_id}`. */
  byRoute: Record<string, number>;
  /** The most recent requests, oldest first (at most MAX_LOGGED). */
  requests: SandboxRequest[];
  /** Jobs the sandbox currently remembers (all providers). */
  jobs: number;
}

/** Provider name recorded for a request under a prefix no module serves. */
export const UNKNOWN_PROVIDER = '(unknown)';
/** Route template recorded for a request no route of its provider matches. */
export const UNMATCHED_ROUTE = '(unmatched)';
/** How many requests the log keeps (counters are never capped). */
export const MAX_LOGGED = 1000;

export class StatsRecorder {
  private total = 0;
  private byProvider: Record<string, number> = {};
  private byRoute: Record<string, number> = {};
  private requests: SandboxRequest[] = [];

  record(entry: SandboxRequest, route: string | undefined): void {
    this.total += 1;
    this.byProvider[entry.provider] = (this.byProvider[entry.provider] ?? 0) + 1;
    const routeKey = `${entry.provider} ${entry.method} ${route ?? UNMATCHED_ROUTE}`;
    this.byRoute[routeKey] = (this.byRoute[routeKey] ?? 0) + 1;
    this.requests.push(entry);
    if (this.requests.length > MAX_LOGGED) this.requests.splice(0, this.requests.length - MAX_LOGGED);
  }

  snapshot(jobs: number): SandboxStats {
    return {
      total: this.total,
      byProvider: { ...this.byProvider },
      byRoute: { ...this.byRoute },
      requests: this.requests.map((r) => ({ ...r, body: structuredClone(r.body) })),
      jobs,
    };
  }

  reset(): void {
    this.total = 0;
    this.byProvider = {};
    this.byRoute = {};
    this.requests = [];
  }
}
