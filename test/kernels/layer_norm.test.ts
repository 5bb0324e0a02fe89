// softmax / log_softmax (with -inf masking), layer_norm and group_norm.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose } from '../helpers.js';
import { layerNormRows, erf } from '../reference.js';
import { fromArray, noGrad } from '../../src/tensor/tensor.js';
import { dispatches } from '../../src/tensor/runtime.js';

describe('layer_norm', () => {
  it('layer_norm forward and gradients for x, w, b', async () => {
    for (const D of [1, 7, 33, 129]) {
      const rows = 5;
      await checkOp(`layer_norm D=${D}`, ([x, w, b]) => ops.layerNorm(x!, w!, b!, 1e-5), ([x, w, b]) => layerNormRows(x!, D, w!, b!, 1e-5), [
        { data: randArray(rows * D, D, -2, 2), shape: [rows, D] }, { data: randArray(D, D + 1, 0.5, 1.5), shape: [D] }, { data: randArray(D, D + 2), shape: [D] },
      ], { atol: 3e-5, gradAtol: D === 1 ? 1e-2 : 2e-4 });
    }
  });
});

describe('group_norm', () => {
  it('group_norm over [B, C, T] with groups = C and groups < C', async () => {
    for (const [B, C, T, G] of [[2, 4, 7, 4], [2, 6, 5, 3]] as const) {
      const n = B * C * T;
      await checkOp(`group_norm G=${G}`, ([x, w, b]) => ops.groupNorm(x!, G, w!, b!), ([x, w, b]) => {
        const y = layerNormRows(x!, (C / G) * T, null, null, 1e-5);
        for (let i = 0; i < n; i++) {
          const c = Math.floor(i / T) % C;
          y[i] = y[i]! * w![c]! + b![c]!;
        }
        return y;
      }, [{ data: randArray(n, n, -2, 2), shape: [B, C, T] }, { data: randArray(C, 1, 0.5, 1.5), shape: [C] }, { data: randArray(C, 2), shape: [C] }], { atol: 3e-5, gradAtol: 3e-4 });
    }
  });
  it('group_norm channels last (one channel per group, affine, GELU, transposed): one dispatch forward, gradients from its fused backward against finite differences', async () => {
    const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
    for (const [B, C, T] of [[2, 4, 7], [1, 12, 33]] as const) {
      const n = B * C * T;
      const ref = (x: Float64Array, w: Float64Array, b: Float64Array, act: boolean): Float64Array => {
        const y = layerNormRows(x, T, null, null, 1e-5);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const t = i % T;
          const c = Math.floor(i / T) % C;
          const bi = Math.floor(i / (T * C));
          const v = y[i]! * w[c]! + b[c]!;
          out[(bi * T + t) * C + c] = act ? gelu(v) : v;
        }
        return out;
      };
      const x = randArray(n, n, -2, 2), w = randArray(C, 1, 0.5, 1.5), b = randArray(C, 2);
      for (const act of [false, true]) {
        const d0 = dispatches();
        const y = noGrad(() => ops.groupNormChannelsLast(fromArray(x, [B, C, T]), fromArray(w, [C]), fromArray(b, [C]), { activation: act ? 'gelu' : null }));
        expect(dispatches() - d0).toBe(1);
        expect(y.shape).toEqual([B, T, C]);
        expectClose(await y.toArray(), ref(Float64Array.from(x), Float64Array.from(w), Float64Array.from(b), act), 3e-5, 1e-4, `group_cl B=${B} C=${C} T=${T} gelu=${act}`);
        await checkOp(`group norm channels last, gradients (gelu=${act})`, ([xt, wt, bt]) => ops.groupNormChannelsLast(xt!, wt!, bt!, { activation: act ? 'gelu' : null }),
          ([xr, wr, br]) => ref(xr!, wr!, br!, act), [{ data: x, shape: [B, C, T] }, { data: w, shape: [C] }, { data: b, shape: [C] }], { atol: 3e-5, gradAtol: 3e-4 });
        // The rows stored W = T + 3 long (a padded product): only the first T steps count.
        const W = T + 3;
        const xp = new Float32Array(B * C * W).fill(1e4);
        for (let r = 0; r < B * C; r++) xp.set(x.subarray(r * T, (r + 1) * T), r * W);
        const yp = noGrad(() => ops.groupNormChannelsLast(fromArray(xp, [B, C, W]), fromArray(w, [C]), fromArray(b, [C]), { activation: act ? 'gelu' : null, length: T }));
        expect(yp.shape).toEqual([B, T, C]);
        expectClose(await yp.toArray(), ref(Float64Array.from(x), Float64Array.from(w), Float64Array.from(b), act), 3e-5, 1e-4, `group_cl padded rows B=${B} C=${C} T=${T} gelu=${act}`);
        await checkOp(`group norm channels last, padded rows, gradients (gelu=${act})`, ([xt, wt, bt]) => ops.groupNormChannelsLast(xt!, wt!, bt!, { activation: act ? 'gelu' : null, length: T }),
          ([xr, wr, br]) => ref(Float64Array.from({ length: n }, (_, i) => xr![Math.floor(i / T) * W + (i % T)]!), wr!, br!, act),
          [{ data: xp.map((v) => (v === 1e4 ? 0 : v)), shape: [B, C, W] }, { data: w, shape: [C] }, { data: b, shape: [C] }], { atol: 3e-5, gradAtol: 3e-4 });
      }
    }
    expect(() => ops.groupNormChannelsLast(fromArray(new Float32Array(8), [1, 2, 4]), fromArray(new Float32Array(2), [2]), fromArray(new Float32Array(2), [2]), { length: 5 })).toThrow(/length 5 must be an integer from 1 to the rows' 4 steps/);
    // The backward is one kernel (and the two sums over the batch for dw and db), not the
    // composition's eight passes.
    const { tidy } = await import('../../src/tensor/tensor.js');
    const xt = fromArray(randArray(2 * 4 * 9, 3), [2, 4, 9]);
    const [wt, bt] = [fromArray(randArray(4, 4), [4]), fromArray(randArray(4, 5), [4])];
    for (const t of [xt, wt, bt]) t.requiresGrad = true;
    let d = 0;
    tidy(() => {
      const y = ops.groupNormChannelsLast(xt, wt, bt, { activation: 'gelu' });
      const dy = fromArray(randArray(y.size, 6), y.shape);
      const d0 = dispatches();
      ops.backward(y, dy);
      d = dispatches() - d0;
    });
    expect(d).toBe(3); // group_cl_backward, and the sums of dw and db over the batch

  });
});
