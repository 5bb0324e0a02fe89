/**
 * The statistics a small ablation can support: a mean with its 95% t-interval over runs, and two
 * paired comparisons of one variant against another over the same runs — the mean difference with
 * its t-interval, and the exact two-sided sign test. (A bootstrap was tried: on four pairs that
 * all favour one side it reports p < 0.001, where the exact sign test cannot go below 0.125.)
 * @module
 */

/** Mean of a list. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1). */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

// Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t quantile for a two-sided 95% interval with `df` degrees of freedom (normal beyond 30, 1.96 at ∞). */
export function t975(df: number): number {
  if (df < 1) return NaN;
  return df <= 30 ? T975[df - 1]! : 1.96 + 2.4 / df; // within 0.005 of the exact value above 30
}

/** A mean with its 95% interval. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** The mean of `xs` with the 95% t-interval (a point when n = 1). */
export function ci95(xs: readonly number[]): Interval {
  const m = mean(xs);
  const half = xs.length > 1 ? (t975(xs.length - 1) * sd(xs)) / Math.sqrt(xs.length) : 0;
  return { mean: m, lo: m - half, hi: m + half, n: xs.length };
}

/** The mean paired difference a_i − b_i with its 95% t-interval (the paired t-test's interval). */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  if (a.length !== b.length || !a.length) throw new Error(`pairedDifference: ${a.length} and ${b.length} values; need equal, non-zero counts`);
  return ci95(a.map((x, i) => x - b[i]!));
}

/** The exact sign test on pairs. */
export interface SignTest {
  wins: number;
  losses: number;
  ties: number;
  /** Two-sided p of wins vs losses under Binomial(wins + losses, ½); ties are left out. */
  p: number;
}

/** Sign test of a_i against b_i. */
export function signTest(a: readonly number[], b: readonly number[]): SignTest {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  a.forEach((x, i) => (x > b[i]! ? wins++ : x < b[i]! ? losses++ : ties++));
  const n = wins + losses;
  const k = Math.min(wins, losses);
  let tail = 0;
  for (let j = 0; j <= k; j++) tail += binom(n, j);
  return { wins, losses, ties, p: n ? Math.min(1, (2 * tail) / 2 ** n) : 1 };
}

function binom(n: number, k: number): number {
  let c = 1;
  for (let j = 1; j <= k; j++) c = (c * (n - k + j)) / j;
  return c;
}

/**
 * The first two principal components of the rows of `x` ([n, d], row-major): each row's scores on
 * them, by power iteration on the covariance with deflation (deterministic start).
 */
export function pca2(x: Float32Array | Float64Array, n: number, d: number): Array<[number, number]> {
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j]! += x[i * d + j]! / n;
  const c = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const a = x[i * d + j]! - mu[j]!;
      for (let k = j; k < d; k++) c[j * d + k]! += a * (x[i * d + k]! - mu[k]!);
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) c[j * d + k] = c[k * d + j]!;
  const comps: Float64Array[] = [];
  for (let p = 0; p < 2; p++) {
    let v = Float64Array.from({ length: d }, (_, j) => 1 + j / d);
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(d);
      for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) w[j]! += c[j * d + k]! * v[k]!;
      for (const u of comps) {
        const dot = w.reduce((s, wj, j) => s + wj * u[j]!, 0);
        for (let j = 0; j < d; j++) w[j]! -= dot * u[j]!;
      }
      const norm = Math.hypot(...w) || 1;
      v = w.map((wj) => wj / norm);
    }
    comps.push(v);
  }
  return Array.from({ length: n }, (_, i) => {
    const s = [0, 0] as [number, number];
    for (let j = 0; j < d; j++) {
      const a = x[i * d + j]! - mu[j]!;
      s[0] += a * comps[0]![j]!;
      s[1] += a * comps[1]![j]!;
    }
    return s;
  });
}
