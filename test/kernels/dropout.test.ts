// conv1d (stride, padding, groups) via im2col + matmul; embedding gather/scatter; dropout.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { randArray, gpuGrads } from '../helpers.js';
import { fromArray } from '../../src/tensor/tensor.js';

describe('dropout', () => {
  it('dropout keeps about 1−p, scales by 1/(1−p), repeats with the seed, and masks the gradient the same way', async () => {
    const n = 4096;
    const x = randArray(n, 3, 0.5, 1.5);
    const { y, grads } = await gpuGrads(([t]) => ops.dropout(t!, 0.25, 1234), [{ data: x, shape: [n] }], new Float32Array(n).fill(1));
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (y[i] !== 0) {
        kept++;
        expect(y[i]).toBeCloseTo(x[i]! / 0.75, 5);
        expect(grads[0]![i]).toBeCloseTo(1 / 0.75, 5);
      } else expect(grads[0]![i]).toBe(0);
    }
    expect(Math.abs(kept / n - 0.75)).toBeLessThan(0.03);
    const again = await ops.dropout(fromArray(x), 0.25, 1234).toArray();
    expect([...again]).toEqual([...y]);
    const other = await ops.dropout(fromArray(x), 0.25, 99).toArray();
    expect([...other]).not.toEqual([...y]);
    expect(ops.dropout(fromArray(x), 0.25, 1, false).size).toBe(n);
  });
});

