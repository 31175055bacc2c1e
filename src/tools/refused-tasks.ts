/**
 * Refused task-augmented calls (consent needed, bad arguments, caps): a task already failed whose result
 * is the refusal. They stand for no job and no spend, so they live in memory only, for a while, and under
 * caps: at most `perPrincipal` per principal and `overall` in all; past a cap the oldest refusal is
 * dropped first (its tasks/get then answers "not found"; the refusal itself was in the create's answer).
 * One store can be shared by every principal's app of one process, so the overall cap holds for all.
 */
import type { ToolResult } from './handler.js';

export interface Refusal {
  principal: string;
  result: ToolResult;
  at: number;
}

export interface RefusalLimits {
  /** How long a refusal can be fetched (ms). */
  ttlMs: number;
  perPrincipal: number;
  overall: number;
}

export const REFUSAL_LIMITS: RefusalLimits = { ttlMs: 10 * 60_000, perPrincipal: 100, overall: 1_000 };

export class RefusedTasks {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly all = new Map<string, Refusal>();
  private readonly byPrincipal = new Map<string, Set<string>>();

  constructor(readonly limits: RefusalLimits = REFUSAL_LIMITS) {}

  /** Refusals held now (all principals, or one). */
  count(principal?: string): number {
    return principal === undefined ? this.all.size : (this.byPrincipal.get(principal)?.size ?? 0);
  }

  add(taskId: string, r: Refusal): void {
    this.expire(r.at);
    const mine = this.byPrincipal.get(r.principal) ?? new Set<string>();
    while (mine.size >= this.limits.perPrincipal) this.delete(mine.values().next().value as string);
    while (this.all.size >= this.limits.overall) this.delete(this.all.keys().next().value as string);
    this.all.set(taskId, r);
    mine.add(taskId);
    this.byPrincipal.set(r.principal, mine);
  }

  get(taskId: string, now: number): Refusal | undefined {
    this.expire(now);
    return this.all.get(taskId);
  }

  private expire(now: number): void {
    for (const [id, r] of this.all) {
      if (now - r.at <= this.limits.ttlMs) break;
      this.delete(id);
    }
  }

  private delete(taskId: string): void {
    const r = this.all.get(taskId);
    if (!r) return;
    this.all.delete(taskId);
    const mine = this.byPrincipal.get(r.principal);
    mine?.delete(taskId);
    if (mine?.size === 0) this.byPrincipal.delete(r.principal);
  }
}
