// unary, binary (with broadcasting) and where: forward vs float64 references, gradients vs
// finite differences of those references, at sizes that are not multiples of the workgroup.
import { describe, it } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose } from '../helpers.js';
import { broadcast2, erf } from '../reference.js';
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

const BIN: Array<[string, (a: number, b: number) => number]> = [
  ['add', (a, b) => a + b], ['sub', (a, b) => a - b], ['mul', (a, b) => a * b], ['div', (a, b) => a / b],
  ['maximum', Math.max], ['minimum', Math.min],
];
const SHAPES: Array<[number[], number[]]> = [
  [[7], [7]], [[4, 6], [4, 6]], [[33, 5], [5]], [[2, 3, 4], [3, 1]], [[2, 1, 5], [4, 1]], [[1], [129]], [[257], [1]], [[3, 1, 2, 1], [1, 4, 1, 3]],
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
