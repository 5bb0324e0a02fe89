// Shared test helpers: allclose with a useful message, seeded data, GPU gradients of
// L = Σ y·dy, and central finite differences of a float64 reference.
import { expect } from 'vitest';
import { Tensor, fromArray, Rng, numel } from '../src/tensor/tensor.js';
import { backward } from '../src/kernels/autograd.js';

/** Asserts |a − e| ≤ atol + rtol·|e| everywhere; the message names the worst element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, label = ''): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) !== Number.isNaN(e)) {
      worst = Infinity;
      at = i;
      break;
    }
    if (a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  if (worst > 0) {
    expect.fail(`${label}: element ${at}: got ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Seeded uniform values in [lo, hi). */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const g = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * g.next();
  return a;
}

/** An input for {@link gpuGrads}: data and shape. */
export interface In {
  data: Float32Array;
  shape: number[];
}

/** Runs `fn` on leaves that require grad, backpropagates `dy`, returns y and every input's grad. */
export async function gpuGrads(fn: (xs: Tensor[]) => Tensor, inputs: In[], dy?: Float32Array): Promise<{ y: Float32Array; grads: Float32Array[]; shape: readonly number[] }> {
  const leaves = inputs.map((i) => {
    const t = fromArray(i.data, i.shape);
    t.requiresGrad = true;
    return t;
  });
  const y = fn(leaves);
  const g = dy ?? randArray(y.size, 4242);
  backward(y, fromArray(g, y.shape));
  const grads = await Promise.all(leaves.map(async (l) => (l.grad ? ((await l.grad.toArray()) as Float32Array) : new Float32Array(l.size))));
  return { y: (await y.toArray()) as Float32Array, grads, shape: y.shape };
}

/** d(Σ ref(xs)·dy)/dxs by central differences in float64. */
export function fdGrads(ref: (xs: Float64Array[]) => ArrayLike<number>, xs: ArrayLike<number>[], dy: ArrayLike<number>, eps = 1e-6): Float64Array[] {
  const base = xs.map((x) => Float64Array.from(x));
  const L = (): number => {
    const y = ref(base);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * dy[i]!;
    return s;
  };
  return base.map((x) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      x[i] = v + eps;
      const lp = L();
      x[i] = v - eps;
      const lm = L();
      x[i] = v;
      g[i] = (lp - lm) / (2 * eps);
    }
    return g;
  });
}

/**
 * The standard op check: forward against a float64 reference and every gradient against finite
 * differences of that reference. f32 rounding sets the tolerances; `scale` widens atol for ops
 * whose outputs sum many terms.
 */
export async function checkOp(label: string, fn: (xs: Tensor[]) => Tensor, ref: (xs: Float64Array[]) => ArrayLike<number>, inputs: In[], opts: { atol?: number; rtol?: number; gradAtol?: number; noGrad?: number[] } = {}): Promise<void> {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const yRef = ref(inputs.map((i) => Float64Array.from(i.data)));
  const dy = randArray(yRef.length, 4242);
  const { y, grads } = await gpuGrads(fn, inputs, dy);
  expectClose(y, yRef, atol, rtol, `${label} forward`);
  const fd = fdGrads(ref, inputs.map((i) => i.data), dy);
  grads.forEach((g, i) => {
    if (opts.noGrad?.includes(i)) return;
    expectClose(g, fd[i]!, opts.gradAtol ?? Math.max(atol, 1e-4), 1e-3, `${label} grad[${i}]`);
  });
}

export const shapeSize = numel;

/** The first `lengths[b]` rows (of width D) of each of the B items of a [B, T, D] array. */
export function validRows(a: ArrayLike<number>, T: number, D: number, lengths: number[]): number[] {
  const out: number[] = [];
  lengths.forEach((L, b) => {
    for (let i = b * T * D; i < (b * T + L) * D; i++) out.push(a[i]!);
  });
  return out;
}
