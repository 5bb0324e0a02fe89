/**
 * The standard SER metrics from integer labels and predictions: accuracy (WA), unweighted
 * average recall (UA), macro- and weighted-F1, per-class recall and precision, confusion matrix.
 * A class never predicted has precision 0 and a class absent from the labels is left out of UA
 * and macro-F1 (scikit-learn's `zero_division=0` and `labels=present` conventions).
 * @module
 */

/** All metrics of one evaluation. */
export interface Metrics {
  /** Weighted accuracy: correct / total. */
  accuracy: number;
  /** Unweighted average recall over classes present in the labels. */
  uar: number;
  macroF1: number;
  weightedF1: number;
  perClassRecall: number[];
  perClassPrecision: number[];
  perClassF1: number[];
  /** confusion[true][predicted]. */
  confusion: number[][];
  support: number[];
}

/** Computes {@link Metrics} for `C` classes. */
export function computeMetrics(labels: ArrayLike<number>, preds: ArrayLike<number>, C: number): Metrics {
  if (labels.length !== preds.length) throw new Error(`metrics: ${labels.length} labels but ${preds.length} predictions`);
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const p = preds[i]!;
    if (!(y >= 0 && y < C) || !(p >= 0 && p < C)) throw new Error(`metrics: label ${y} or prediction ${p} at ${i} is not a class in [0, ${C})`);
    confusion[y]![p]!++;
  }
  const support = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const predicted = Array.from({ length: C }, (_, c) => confusion.reduce((s, r) => s + r[c]!, 0));
  const tp = confusion.map((r, c) => r[c]!);
  const perClassRecall = tp.map((t, c) => (support[c] ? t / support[c]! : 0));
  const perClassPrecision = tp.map((t, c) => (predicted[c] ? t / predicted[c]! : 0));
  const perClassF1 = perClassRecall.map((r, c) => {
    const p = perClassPrecision[c]!;
    return p + r > 0 ? (2 * p * r) / (p + r) : 0;
  });
  const present = support.map((s, c) => (s > 0 ? c : -1)).filter((c) => c >= 0);
  const total = labels.length;
  const avg = (xs: number[]): number => (present.length ? present.reduce((s, c) => s + xs[c]!, 0) / present.length : 0);
  return {
    accuracy: total ? tp.reduce((a, b) => a + b, 0) / total : 0,
    uar: avg(perClassRecall),
    macroF1: avg(perClassF1),
    weightedF1: total ? perClassF1.reduce((s, f, c) => s + (f * support[c]!) / total, 0) : 0,
    perClassRecall, perClassPrecision, perClassF1, confusion, support,
  };
}

/** Metric names usable for best-checkpoint selection. */
export type MetricName = 'accuracy' | 'uar' | 'macroF1' | 'weightedF1';
