/** spend_report's refund totals: one total per currency, never a sum across currencies, by refund time. */
import { describe, expect, it } from 'vitest';
import { refundTotals } from '../../src/tools/spend-view.js';

describe('refundTotals', () => {
  it('folds providers of one currency together and keeps other currencies apart', () => {
    const currency: Record<string, string> = { phaya: 'credits', ph0ny: 'credits', mediaio: 'USD' };
    const t = refundTotals(
      [
        { provider: 'mediaio', count: 2, credits: 0.3 },
        { provider: 'ph0ny', count: 1, credits: 0.1 },
        { provider: 'phaya', count: 3, credits: 0.2 },
      ],
      (p) => currency[p],
    );
    expect(t).toEqual({
      days: 30,
      basis: 'refund time',
      count: 6,
      currencies: [
        { currency: 'credits', count: 4, credits: 0.3 },
        { currency: 'USD', count: 2, credits: 0.3 },
      ],
    });
  });
});
