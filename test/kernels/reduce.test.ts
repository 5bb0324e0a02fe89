// sum, mean, max over any axes with keepdim; argmax.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray } from '../helpers.js';
import { reduceAxis } from '../reference.js';
import { fromArray } from '../../src/tensor/tensor.js';

const SHAPES = [[7], [33, 5], [2, 129, 3], [257, 2]];

describe('reduce', () => {
  for (const op of ['sum', 'mean', 'max'] as const) {
    it(`reduce ${op} over each axis, keepdim and not`, async () => {
      const f = op === 'sum' ? (v: number[]) => v.reduce((a, b) => a + b, 0) : op === 'mean' ? (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length : (v: number[]) => Math.max(...v);
      for (const shape of SHAPES) {
        const n = shape.reduce((a, b) => a * b, 1);
        for (let ax = 0; ax < shape.length; ax++) {
          for (const keep of [false, true]) {
            await checkOp(`${op} ${shape} axis ${ax}`, ([x]) => ops[op](x!, ax, keep), ([x]) => reduceAxis(x!, shape, ax, f), [{ data: randArray(n, n + ax, -2, 2), shape }], { atol: 1e-5 });
          }
        }
      }
    });
  }
  it('reduce sum over several axes and over everything', async () => {
    const shape = [3, 4, 5];
    await checkOp('sum [0,2]', ([x]) => ops.sum(x!, [0, 2]), ([x]) => {
      const y = new Float64Array(4);
      for (let i = 0; i < 60; i++) y[Math.floor(i / 5) % 4]! += x![i]!;
      return y;
    }, [{ data: randArray(60, 5), shape }]);
    await checkOp('sum all', ([x]) => ops.sum(x!), ([x]) => [x!.reduce((a, b) => a + b, 0)], [{ data: randArray(60, 6), shape }]);
  });
  it('reduce argmax picks the first maximum', async () => {
    const x = fromArray([[1, 5, 5, 2], [9, 0, 9, 1], [-3, -2, -1, -4]]);
    expect([...(await ops.argmax(x, -1).toArray())]).toEqual([1, 0, 2]);
    expect([...(await ops.argmax(x, 0).toArray())]).toEqual([1, 0, 1, 0]);
  });
});
