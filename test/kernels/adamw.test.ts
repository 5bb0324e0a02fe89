// adamw: the fused update against a plain-TS float64 AdamW (torch.optim.AdamW's arithmetic) over
// several steps at awkward sizes, with weight decay and a clipping factor; the Crab authors'
// three recorded steps are checked in test/models/crab.test.ts.
import { describe, it, expect } from 'vitest';
import { fromArray } from '../../src/tensor/tensor.js';
import { zeros } from '../../src/kernels/fill.js';
import { adamwUpdate, type AdamWStep } from '../../src/kernels/adamw.js';
import { expectClose, randArray } from '../helpers.js';

/**
 * torch.optim.AdamW, one step, in float64 — from the hyper-parameters the kernel receives: its
 * uniforms are f32, so β2 = 0.999 arrives as 0.99900001 and 1 − β2 is 1.3e-5 off 1e-3.
 */
function adamwRef(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, h: AdamWStep, gscale: number): void {
  const f = Math.fround;
  const [lr, b1, b2, eps, wd, gs] = [f(h.lr), f(h.beta1), f(h.beta2), f(h.eps), f(h.weightDecay), f(gscale)];
  const bc1 = f(1 - h.beta1 ** h.step);
  const sqrtBc2 = f(Math.sqrt(1 - h.beta2 ** h.step));
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]! * gs;
    p[i]! *= 1 - lr * wd;
    m[i] = b1 * m[i]! + (1 - b1) * gi;
    v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
    p[i]! -= (lr / bc1) * m[i]! / (Math.sqrt(v[i]!) / sqrtBc2 + eps);
  }
}

describe('adamw', () => {
  it('adamw: four steps match a float64 AdamW at sizes 1, 7, 33, 257, with weight decay and a clipping factor', async () => {
    for (const n of [1, 7, 33, 257]) {
      const p0 = randArray(n, n);
      const P = fromArray(p0, [n]);
      const M = zeros([n]);
      const V = zeros([n]);
      const p = Float64Array.from(p0);
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      for (let step = 1; step <= 4; step++) {
        const g = randArray(n, 100 * n + step);
        const gscale = step % 2 ? 1 : 0.37;
        const h: AdamWStep = { lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step };
        adamwUpdate(P, fromArray(g, [n]), M, V, fromArray([gscale], [1]), h);
        adamwRef(p, Float64Array.from(g), m, v, h, gscale);
      }
      expectClose(await P.toArray(), p, 1e-6, 1e-5, `p n=${n}`);
      expectClose(await M.toArray(), m, 1e-7, 1e-5, `m n=${n}`);
      expectClose(await V.toArray(), v, 1e-9, 1e-5, `v n=${n}`);
    }
  });
  it('adamw: a moment of another size is refused with the parameter named', () => {
    const p = fromArray([1, 2, 3], [3]);
    p.name = 'encoder.w';
    expect(() => adamwUpdate(p, zeros([3]), zeros([2]), zeros([3]), fromArray([1], [1]), { lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 1 })).toThrow(/encoder\.w \[3\]/);
  });
});
