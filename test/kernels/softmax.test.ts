// softmax / log_softmax (with -inf masking), layer_norm and group_norm.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose, gpuGrads } from '../helpers.js';
import { softmaxRows } from '../reference.js';
import { fromArray } from '../../src/tensor/tensor.js';

describe('softmax', () => {
  for (const log of [false, true]) {
    const name = log ? 'log_softmax' : 'softmax';
    it(`softmax ${name} at awkward row lengths`, async () => {
      // Multiples of 4 take the vec4 entry points (main4, backward4), the others the scalar ones.
      for (const L of [1, 4, 7, 33, 36, 129, 256, 257]) {
        const rows = L > 100 ? 3 : 5;
        await checkOp(`${name} L=${L}`, ([x]) => (log ? ops.logSoftmax(x!) : ops.softmax(x!)), ([x]) => softmaxRows(x!, L, log), [{ data: randArray(rows * L, L, -4, 4), shape: [rows, L] }]);
      }
    });
  }
  it.each([4, 5])('softmax masked with -inf, rows of %i: zeros there, a fully masked row is all zeros, no NaN', async (L) => {
    const row0 = [1, -Infinity, 2, 0.5, 3].slice(0, L);
    const x = new Float32Array([...row0, ...new Array<number>(L).fill(-Infinity)]);
    const { y, grads } = await gpuGrads(([t]) => ops.softmax(t!), [{ data: x, shape: [2, L] }], Float32Array.from({ length: 2 * L }, (_, i) => i + 1));
    const ref = softmaxRows(Float64Array.from(x), L);
    expectClose(y, ref, 1e-6, 1e-5, 'masked softmax');
    expect(y.slice(L).every((v) => v === 0)).toBe(true);
    expect(grads[0]!.every((v) => Number.isFinite(v))).toBe(true);
    expect(grads[0]![1] === 0).toBe(true);
    expect(grads[0]!.slice(L).every((v) => v === 0)).toBe(true);
  });
  it('softmax of huge logits stays finite', async () => {
    const y = await ops.softmax(fromArray([[1e30, 0, -1e30]])).toArray();
    expectClose(y, [1, 0, 0], 0, 0, 'huge');
  });
});

