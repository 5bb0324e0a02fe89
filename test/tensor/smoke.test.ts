import { describe, expect, it } from 'vitest';
import { fromArray } from '../../src/tensor/tensor.js';
import * as ops from '../../src/kernels/index.js';

describe('smoke', () => {
  it('adds and multiplies', async () => {
    const a = fromArray([[1, 2], [3, 4]]);
    const b = fromArray([10, 20]);
    expect([...(await ops.add(a, b).toArray())]).toEqual([11, 22, 13, 24]);
    const c = ops.matmul(a, fromArray([[1], [1]]));
    expect([...(await c.toArray())]).toEqual([3, 7]);
  });
});
