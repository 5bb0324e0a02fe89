// softmax / log_softmax (with -inf masking), layer_norm and group_norm.
import { describe, it } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray } from '../helpers.js';
import { layerNormRows } from '../reference.js';

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
});
