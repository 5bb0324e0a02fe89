// where: forward vs float64 references, gradients vs
// finite differences of those references, at sizes that are not multiples of the workgroup.
import { describe, it } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray } from '../helpers.js';
import { fromArray } from '../../src/tensor/tensor.js';

describe('where', () => {
  it('where selects and routes gradients, with broadcasting', async () => {
    const c = Float32Array.from(randArray(33 * 4, 9), (v) => (v > 0 ? 1 : 0));
    const cond = fromArray(c, [33, 4]);
    await checkOp('where', ([a, b]) => ops.where(cond, a!, b!), ([a, b]) => {
      const y = new Float64Array(33 * 4);
      for (let i = 0; i < y.length; i++) y[i] = c[i] ? a![i % 4]! : b![i]!;
      return y;
    }, [{ data: randArray(4, 1), shape: [4] }, { data: randArray(132, 2), shape: [33, 4] }]);
  });
});
