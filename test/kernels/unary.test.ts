// unary: forward vs float64 references, gradients vs
// finite differences of those references, at sizes that are not multiples of the workgroup.
import { describe, it } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose } from '../helpers.js';
import { erf } from '../reference.js';
import { fromArray } from '../../src/tensor/tensor.js';

// Multiples of 4 run the vec4 entry points (main4, backward4), the others the scalar ones.
const SIZES = [1, 7, 12, 33, 129, 256, 257];
const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const UNARY: Array<[ops.UnaryOp, (v: number) => number, [number, number]]> = [
  ['neg', (v) => -v, [-2, 2]],
  ['exp', Math.exp, [-3, 3]],
  ['log', Math.log, [0.2, 3]],
  ['sqrt', Math.sqrt, [0.2, 3]],
  ['rsqrt', (v) => 1 / Math.sqrt(v), [0.2, 3]],
  ['abs', Math.abs, [-2, 2]],
  ['tanh', Math.tanh, [-4, 4]],
  ['sigmoid', sig, [-8, 8]],
  ['relu', (v) => Math.max(v, 0), [-2, 2]],
  ['gelu', (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)), [-4, 4]],
  ['square', (v) => v * v, [-2, 2]],
  ['reciprocal', (v) => 1 / v, [0.5, 3]],
];

describe('unary', () => {
  for (const [op, f, [lo, hi]] of UNARY) {
    it(`unary ${op} forward and gradient`, async () => {
      for (const n of SIZES) {
        // keep abs/relu inputs away from the kink, where finite differences are meaningless
        const data = randArray(n, n + 1, lo, hi).map((v) => (op === 'abs' || op === 'relu' ? (Math.abs(v) < 1e-3 ? 0.5 : v) : v));
        await checkOp(`${op} n=${n}`, ([x]) => ops.unary(op, x!), ([x]) => x!.map(f), [{ data, shape: [n] }], { atol: 2e-6, rtol: 2e-6 });
      }
    });
  }
  it('unary affine', async () => {
    await checkOp('affine', ([x]) => ops.affine(x!, -1.5, 0.25), ([x]) => x!.map((v) => -1.5 * v + 0.25), [{ data: randArray(33, 3), shape: [33] }]);
  });
  it('unary tanh and sigmoid stay finite at huge inputs', async () => {
    const x = fromArray([-1e4, -100, 100, 1e4]);
    expectClose(await ops.tanh(x).toArray(), [-1, -1, 1, 1], 0, 0, 'tanh');
    expectClose(await ops.sigmoid(x).toArray(), [0, 0, 1, 1], 1e-30, 0, 'sigmoid');
  });
});


