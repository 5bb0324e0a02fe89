// Plain-TypeScript float64 references of the engine's ops, written from the textbook formulas
// (and PyTorch's documented semantics), independent of the WGSL kernels.

export type F = Float64Array;

export function strides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** NumPy broadcasting of a binary function. */
export function broadcast2(a: F, as: number[], b: F, bs: number[], f: (x: number, y: number) => number): { y: F; shape: number[] } {
  const n = Math.max(as.length, bs.length);
  const pa = [...Array(n - as.length).fill(1), ...as];
  const pb = [...Array(n - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const sa = strides(pa);
  const sb = strides(pb);
  const so = strides(shape);
  const y = new Float64Array(numel(shape));
  for (let i = 0; i < y.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < n; d++) {
      const c = Math.floor(i / so[d]!) % shape[d]!;
      if (pa[d] !== 1) ia += c * sa[d]!;
      if (pb[d] !== 1) ib += c * sb[d]!;
    }
    y[i] = f(a[ia]!, b[ib]!);
  }
  return { y, shape };
}

/** Reduce axis `ax` of `shape` with `f` over the values (keepdim layout). */
export function reduceAxis(x: F, shape: number[], ax: number, f: (v: number[]) => number): F {
  const outer = numel(shape.slice(0, ax));
  const R = shape[ax]!;
  const inner = numel(shape.slice(ax + 1));
  const y = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const v: number[] = [];
      for (let r = 0; r < R; r++) v.push(x[(o * R + r) * inner + i]!);
      y[o * inner + i] = f(v);
    }
  }
  return y;
}

/** C = op(A) op(B) for a single matrix pair. */
export function matmul2(a: F, b: F, M: number, N: number, K: number, ta = false, tb = false): F {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (ta ? a[k * M + m]! : a[m * K + k]!) * (tb ? b[n * K + k]! : b[k * N + n]!);
      c[m * N + n] = s;
    }
  }
  return c;
}

export function softmaxRows(x: F, L: number, log = false): F {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / L; r++) {
    let m = -Infinity;
    for (let j = 0; j < L; j++) m = Math.max(m, x[r * L + j]!);
    if (m === -Infinity) continue; // fully masked row → 0
    let s = 0;
    for (let j = 0; j < L; j++) s += Math.exp(x[r * L + j]! - m);
    for (let j = 0; j < L; j++) y[r * L + j] = log ? x[r * L + j]! - m - Math.log(s) : Math.exp(x[r * L + j]! - m) / s;
  }
  return y;
}

export function layerNormRows(x: F, D: number, w: F | null, b: F | null, eps: number): F {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / D; r++) {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += x[r * D + j]!;
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[r * D + j]! - mu) ** 2;
    const rstd = 1 / Math.sqrt(v / D + eps);
    for (let j = 0; j < D; j++) y[r * D + j] = (x[r * D + j]! - mu) * rstd * (w ? w[j]! : 1) + (b ? b[j]! : 0);
  }
  return y;
}

/** PyTorch conv1d: x [B, Cin, T], w [Cout, Cin/G, K], b [Cout] | null. */
export function conv1dRef(x: F, xs: number[], w: F, ws: number[], b: F | null, stride: number, pad: number, groups: number): { y: F; shape: number[] } {
  const [B, Cin, T] = xs as [number, number, number];
  const [Cout, Cg, K] = ws as [number, number, number];
  const Tout = Math.floor((T + 2 * pad - K) / stride) + 1;
  const y = new Float64Array(B * Cout * Tout);
  const og = Cout / groups;
  for (let bb = 0; bb < B; bb++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / og);
      for (let t = 0; t < Tout; t++) {
        let s = b ? b[co]! : 0;
        for (let c = 0; c < Cg; c++) {
          for (let k = 0; k < K; k++) {
            const ti = t * stride + k - pad;
            if (ti < 0 || ti >= T) continue;
            s += w[(co * Cg + c) * K + k]! * x[(bb * Cin + g * Cg + c) * T + ti]!;
          }
        }
        y[(bb * Cout + co) * Tout + t] = s;
      }
    }
  }
  return { y, shape: [B, Cout, Tout] };
}

export function erf(x: number): number {
  // High-precision erf (series / continued fraction), |error| < 1e-14.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}
