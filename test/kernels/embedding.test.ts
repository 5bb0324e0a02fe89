// conv1d (stride, padding, groups) via im2col + matmul; embedding gather/scatter; dropout.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { randArray, gpuGrads } from '../helpers.js';
import { fromArray } from '../../src/tensor/tensor.js';

describe('embedding', () => {
  it('embedding gathers rows; backward sums repeated ids and skips the padding row', async () => {
    const V = 6;
    const D = 5;
    const ids = fromArray([[1, 3, 3], [0, 1, 5]], [2, 3], 'i32');
    const W = randArray(V * D, 1);
    const dy = randArray(6 * D, 2);
    const { y, grads } = await gpuGrads(([w]) => ops.embedding(ids, w!, 1), [{ data: W, shape: [V, D] }], dy);
    const flat = [1, 3, 3, 0, 1, 5];
    const yRef = flat.flatMap((i) => [...W.slice(i * D, (i + 1) * D)]);
    expect([...y]).toEqual(yRef);
    const gRef = new Float32Array(V * D);
    flat.forEach((id, n) => {
      if (id === 1) return;
      for (let d = 0; d < D; d++) gRef[id * D + d]! += dy[n * D + d]!;
    });
    for (let i = 0; i < gRef.length; i++) expect(grads[0]![i]).toBeCloseTo(gRef[i]!, 6);
  });
  it('embedding rejects an out-of-range id with its position', () => {
    const W = fromArray(new Float32Array(12), [4, 3]);
    expect(() => ops.embedding(fromArray([0, 4], [2], 'i32'), W)).toThrow(/id 4 at flat position 1 is out of range \[0, 4\)/);
  });
});

