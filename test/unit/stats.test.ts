// The demo's statistics on hand-computed cases: t-intervals, the exact sign test, the paired
// difference and PCA.
import { describe, it, expect } from 'vitest';
import { mean, sd, ci95, t975, signTest, pairedDifference, pca2 } from '../../src/report/stats.js';
import { speakerFolds } from '../../src/commands/demo.js';

describe('stats', () => {
  it('stats: mean, sample sd and the 95% t-interval', () => {
    expect(mean([1, 2, 3, 4, 5])).toBe(3);
    expect(sd([1, 2, 3, 4, 5])).toBeCloseTo(Math.sqrt(2.5), 12);
    // t(0.975, 4) = 2.776: 3 ± 2.776 · 1.5811 / √5 = 3 ± 1.9630
    const c = ci95([1, 2, 3, 4, 5]);
    expect(c.lo).toBeCloseTo(1.037, 3);
    expect(c.hi).toBeCloseTo(4.963, 3);
    expect(c.n).toBe(5);
    expect(ci95([0.4])).toEqual({ mean: 0.4, lo: 0.4, hi: 0.4, n: 1 });
    expect(t975(1)).toBe(12.706);
    expect(t975(7)).toBe(2.365);
    expect(t975(60)).toBeCloseTo(2.0, 2);
  });
  it('stats: exact sign test (ties left out)', () => {
    // 7 wins, 1 loss: p = 2 · (C(8,0) + C(8,1)) / 2^8 = 18/256
    const s = signTest([5, 6, 7, 8, 9, 10, 11, 1, 3], [1, 2, 3, 4, 5, 6, 7, 2, 3]);
    expect(s).toEqual({ wins: 7, losses: 1, ties: 1, p: 18 / 256 });
    expect(signTest([1, 2], [2, 1]).p).toBe(1);
    expect(signTest([1, 1, 1, 1, 1], [0, 0, 0, 0, 0]).p).toBe(2 / 32);
    expect(signTest([1], [1])).toEqual({ wins: 0, losses: 0, ties: 1, p: 1 });
  });
  it('stats: paired difference with its t-interval', () => {
    // differences 2, 2, 4, 4: mean 3, sd 1.1547, t(3) = 3.182 → 3 ± 1.837
    const d = pairedDifference([3, 4, 7, 8], [1, 2, 3, 4]);
    expect(d.mean).toBe(3);
    expect(d.lo).toBeCloseTo(3 - (3.182 * 1.1547005) / 2, 5);
    expect(d.hi).toBeCloseTo(3 + (3.182 * 1.1547005) / 2, 5);
    expect(pairedDifference([1, 2], [1, 2])).toEqual({ mean: 0, lo: 0, hi: 0, n: 2 });
    expect(() => pairedDifference([1], [1, 2])).toThrow(/equal, non-zero counts/);
  });
  it('stats: pca2 finds the axis of largest spread first', () => {
    // Points on the line y = 2x plus an orthogonal wobble: PC1 scores are ±√5·t, PC2 the wobble.
    const t = [-2, -1, 0, 1, 2];
    const wob = [0.1, -0.2, 0, 0.2, -0.1]; // mean 0 and uncorrelated with t: PC1 is exactly along (1, 2)
    const x = new Float64Array(t.flatMap((v, i) => [v - (2 * wob[i]!) / Math.sqrt(5), 2 * v + wob[i]! / Math.sqrt(5)]));
    const s = pca2(x, 5, 2);
    const pc1 = s.map((p) => Math.abs(p[0]));
    expect(pc1.map((v) => Number(v.toFixed(6)))).toEqual(t.map((v) => Number(Math.abs(v * Math.sqrt(5)).toFixed(6))));
    expect(s.map((p) => Number(Math.abs(p[1]).toFixed(6)))).toEqual(wob.map((v) => Math.abs(v)));
  });
  it('demo folds: every speaker is a test speaker exactly once; dev is another speaker', () => {
    const spk = Array.from({ length: 8 }, (_, i) => `spk0${i}`);
    const f = speakerFolds([...spk, ...spk], 4);
    expect(f.map((x) => x.test)).toEqual([['spk00', 'spk04'], ['spk01', 'spk05'], ['spk02', 'spk06'], ['spk03', 'spk07']]);
    expect(f.flatMap((x) => x.test).sort()).toEqual(spk);
    for (const x of f) expect(x.test).not.toContain(x.dev);
    expect(() => speakerFolds(spk, 7)).toThrow(/between 2 and 6/);
  });
});
