// Metrics against hand-computed cases, including a class that is never predicted.
import { describe, it, expect } from 'vitest';
import { computeMetrics } from '../../src/train/metrics.js';

describe('metrics', () => {
  it('metrics on a hand-computed 3-class case', () => {
    // labels: 0 0 0 1 1 2 ; preds: 0 0 1 1 0 1  → class 2 is never predicted
    const m = computeMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 1], 3);
    expect(m.confusion).toEqual([[2, 1, 0], [1, 1, 0], [0, 1, 0]]);
    expect(m.accuracy).toBeCloseTo(3 / 6, 12);
    // recalls: 2/3, 1/2, 0 → UA = (2/3 + 1/2 + 0) / 3
    expect(m.uar).toBeCloseTo((2 / 3 + 1 / 2) / 3, 12);
    // precisions: 2/3, 1/3, 0 (never predicted → 0); F1: 2/3, 0.4, 0
    expect(m.perClassPrecision).toEqual([2 / 3, 1 / 3, 0]);
    expect(m.perClassF1[0]).toBeCloseTo(2 / 3, 12);
    expect(m.perClassF1[1]).toBeCloseTo(0.4, 12);
    expect(m.perClassF1[2]).toBe(0);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0.4) / 3, 12);
    expect(m.weightedF1).toBeCloseTo((3 * (2 / 3) + 2 * 0.4) / 6, 12);
  });
  it('metrics leave a class absent from the labels out of UA and macro-F1', () => {
    const m = computeMetrics([0, 1, 1], [0, 1, 2], 3);
    expect(m.uar).toBeCloseTo((1 + 0.5) / 2, 12);
    expect(m.macroF1).toBeCloseTo((1 + 2 / 3) / 2, 12);
  });
  it('metrics reject a prediction outside the classes', () => {
    expect(() => computeMetrics([0], [5], 3)).toThrow(/prediction 5 at 0/);
  });
});
