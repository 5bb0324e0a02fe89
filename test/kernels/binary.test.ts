// binary (with broadcasting): forward vs float64 references, gradients vs
// finite differences of those references, at sizes that are not multiples of the workgroup.
import { describe, it } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose } from '../helpers.js';
import { broadcast2 } from '../reference.js';
import { fromArray } from '../../src/tensor/tensor.js';

const BIN: Array<[string, (a: number, b: number) => number]> = [
  ['add', (a, b) => a + b], ['sub', (a, b) => a - b], ['mul', (a, b) => a * b], ['div', (a, b) => a / b],
  ['maximum', Math.max], ['minimum', Math.min],
];
const SHAPES: Array<[number[], number[]]> = [
  [[7], [7]], [[4, 6], [4, 6]], [[33, 5], [5]], [[2, 3, 4], [3, 1]], [[2, 1, 5], [4, 1]], [[1], [129]], [[257], [1]], [[3, 1, 2, 1], [1, 4, 1, 3]], [[3, 70], [70]], [[2, 1, 45], [3, 1]],
];

describe('binary', () => {
  for (const [op, f] of BIN) {
    it(`binary ${op} with broadcasting`, async () => {
      for (const [as, bs] of SHAPES) {
        const na = as.reduce((x, y) => x * y, 1);
        const nb = bs.reduce((x, y) => x * y, 1);
        let a = randArray(na, na, -2, 2);
        let b = randArray(nb, nb + 100, -2, 2);
        if (op === 'div') b = b.map((v) => (Math.abs(v) < 0.3 ? 0.7 : v));
        if (op === 'maximum' || op === 'minimum') a = a.map((v) => v + 0.01); // no exact ties
        await checkOp(`${op} ${as}∘${bs}`, ([x, y]) => ops.binary(op as ops.BinaryOp, x!, y!), ([x, y]) => broadcast2(x!, as, y!, bs, f).y, [{ data: a, shape: as }, { data: b, shape: bs }]);
      }
    });
  }
  it('binary comparisons', async () => {
    const a = fromArray([1, 2, 3, 4]);
    const b = fromArray([2, 2, 2, 2]);
    expectClose(await ops.binary('lt', a, b).toArray(), [1, 0, 0, 0], 0, 0, 'lt');
    expectClose(await ops.binary('ge', a, b).toArray(), [0, 1, 1, 1], 0, 0, 'ge');
    expectClose(await ops.binary('eq', a, b).toArray(), [0, 1, 0, 0], 0, 0, 'eq');
  });
});

