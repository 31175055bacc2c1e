/**
 * Consent policy: does this call need the person's explicit approval before any provider request?
 * Unknown price -> always. Otherwise: confirm-all, an alwaysConfirm pattern (Veo, Sora), or a price at or
 * above the provider's threshold. Operators may switch the prompt off per provider (caps still apply).
 */
import type { LoadedCatalogue } from '../catalogue/load.js';
import type { Operation } from '../catalogue/format.js';
import { amountText, priceRange, type Quote } from './price.js';

export const DEFAULT_ALWAYS_CONFIRM = ['veo', 'sora'];

export interface ConsentSettings {
  /** Every paid call needs consent. */
  confirmAll: boolean;
  /** Per-provider threshold overrides (credits). */
  confirmAbove: Readonly<Record<string, number>>;
  /** Providers whose consent prompt is off (operators with their own approval UI). */
  promptOff: readonly string[];
  /** An observed price counts as the price for the threshold rule (operator opt-in). */
  trustObserved?: boolean;
}

export interface ConsentDecision {
  needed: boolean;
  reason: string;
}

function threshold(cat: LoadedCatalogue, s: ConsentSettings): number {
  return (
    (Object.hasOwn(s.confirmAbove, cat.provider) ? s.confirmAbove[cat.provider] : undefined) ?? cat.consent.confirmAbove
  );
}

/** The alwaysConfirm pattern that matches this operation, if any (id, title or tag; case-insensitive). */
export function alwaysConfirmMatch(op: Operation, cat: LoadedCatalogue): string | undefined {
  const patterns = cat.consent.alwaysConfirm.length ? cat.consent.alwaysConfirm : DEFAULT_ALWAYS_CONFIRM;
  const hay = [op.id, op.title, ...op.tags].map((s) => s.toLowerCase());
  return patterns.find((p) => hay.some((h) => h.includes(p.toLowerCase())));
}

export function decideConsent(op: Operation, cat: LoadedCatalogue, quote: Quote, s: ConsentSettings): ConsentDecision {
  if (s.promptOff.includes(cat.provider))
    return { needed: false, reason: `consent prompt switched off for ${cat.provider} by the operator` };
  if (s.confirmAll) return { needed: true, reason: 'the operator requires confirmation of every paid call' };
  if (quote.kind === 'unknown') return { needed: true, reason: `the price is unknown (${quote.reason})` };
  const pattern = alwaysConfirmMatch(op, cat);
  if (pattern) return { needed: true, reason: `${op.title} calls always need confirmation` };
  const limit = threshold(cat, s);
  const word = quote.kind === 'upTo' ? 'up to ' : '';
  if (quote.credits >= limit)
    return { needed: true, reason: `the price (${word}${quote.credits} ${cat.currency}) is at or above ${limit}` };
  return { needed: false, reason: `the price is below ${limit}` };
}

/** For tool descriptions: "needs confirmation", "needs confirmation from 5 credits", or "". */
export function consentNote(op: Operation, cat: LoadedCatalogue, s: ConsentSettings): string {
  if (s.promptOff.includes(cat.provider) || !op.price) return '';
  if (s.confirmAll || 'unknown' in op.price || alwaysConfirmMatch(op, cat)) return 'needs confirmation';
  const range = priceRange(op.price);
  const limit = threshold(cat, s);
  if (!range) return 'needs confirmation';
  if (range.min >= limit) return 'needs confirmation';
  if (range.max >= limit) return `needs confirmation from ${amountText(limit, cat.currency)}`;
  return '';
}
