// permute/transpose, slice, pad, concat, broadcastTo: copies with gradients.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray } from '../helpers.js';
import { strides } from '../reference.js';
import { fromArray } from '../../src/tensor/tensor.js';

function permuteRef(x: Float64Array, shape: number[], perm: number[]): Float64Array {
  const os = perm.map((p) => shape[p]!);
  const st = strides(shape);
  const ost = strides(os);
  const y = new Float64Array(x.length);
  for (let i = 0; i < y.length; i++) {
    let src = 0;
    for (let d = 0; d < os.length; d++) src += (Math.floor(i / ost[d]!) % os[d]!) * st[perm[d]!]!;
    y[i] = x[src]!;
  }
  return y;
}

describe('copy', () => {
  it('copy permute and transpose', async () => {
    for (const [shape, perm] of [[[7, 33], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]]] as Array<[number[], number[]]>) {
      const n = shape.reduce((a, b) => a * b, 1);
      await checkOp(`permute ${shape} ${perm}`, ([x]) => ops.permute(x!, perm), ([x]) => permuteRef(x!, shape, perm), [{ data: randArray(n, n), shape }]);
    }
    await checkOp('transpose', ([x]) => ops.transpose(x!), ([x]) => permuteRef(x!, [3, 4, 5], [0, 2, 1]), [{ data: randArray(60, 1), shape: [3, 4, 5] }]);
  });
  it('copy permute that moves only size-1 dimensions is a view (no dispatch), with gradients', async () => {
    const { dispatches } = await import('../../src/tensor/runtime.js');
    const d0 = dispatches();
    const v = ops.permute(fromArray(randArray(12, 5), [4, 1, 3]), [1, 0, 2]);
    expect(dispatches() - d0).toBe(0);
    expect(v.shape).toEqual([1, 4, 3]);
    for (const [shape, perm] of [[[4, 1, 3], [1, 0, 2]], [[1, 5, 1, 2], [2, 1, 3, 0]], [[3, 1, 2], [2, 1, 0]]] as Array<[number[], number[]]>) {
      const n = shape.reduce((a, b) => a * b, 1);
      await checkOp(`permute ${perm}`, (t) => ops.permute(t[0]!, perm), (t) => permuteRef(t[0]!, shape, perm), [{ data: randArray(n, n), shape }]);
    }
  });
  it('copy slice and pad are each other\'s gradients', async () => {
    await checkOp('slice', ([x]) => ops.slice(x!, [1, 2], [3, -1]), ([x]) => {
      const y: number[] = [];
      for (let r = 1; r < 4; r++) for (let c = 2; c < 7; c++) y.push(x![r * 7 + c]!);
      return y;
    }, [{ data: randArray(35, 2), shape: [5, 7] }]);
    await checkOp('pad', ([x]) => ops.pad(x!, [1, 0], [2, 3], 0.5), ([x]) => {
      const y = new Float64Array(6 * 7).fill(0.5);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) y[(r + 1) * 7 + c] = x![r * 4 + c]!;
      return y;
    }, [{ data: randArray(12, 3), shape: [3, 4] }]);
    // Padding on both sides of a last dimension longer than one 8-element run per invocation.
    await checkOp('pad last dim', ([x]) => ops.pad(x!, [1, 2], [0, 5], -1), ([x]) => {
      const y = new Float64Array(4 * 18).fill(-1);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 11; c++) y[(r + 1) * 18 + c + 2] = x![r * 11 + c]!;
      return y;
    }, [{ data: randArray(33, 7), shape: [3, 11] }]);
    // Rows of several 32-element runs (a CPU adapter's), the padding inside the first and last.
    await checkOp('pad long rows', ([x]) => ops.pad(x!, [0, 5], [1, 9], 2), ([x]) => {
      const y = new Float64Array(4 * 84).fill(2);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 70; c++) y[r * 84 + c + 5] = x![r * 70 + c]!;
      return y;
    }, [{ data: randArray(210, 8), shape: [3, 70] }]);
    await checkOp('slice long rows', ([x]) => ops.slice(x!, [1, 3], [2, 97]), ([x]) => {
      const y: number[] = [];
      for (let r = 1; r < 3; r++) for (let c = 3; c < 100; c++) y.push(x![r * 101 + c]!);
      return y;
    }, [{ data: randArray(303, 9), shape: [3, 101] }]);
    await checkOp('permute long rows', ([x]) => ops.permute(x!, [1, 0, 2]), ([x]) => permuteRef(x!, [3, 2, 65], [1, 0, 2]), [{ data: randArray(390, 10), shape: [3, 2, 65] }]);
  });
  it('copy concat along an inner axis', async () => {
    await checkOp('concat', ([a, b]) => ops.concat([a!, b!], 1), ([a, b]) => {
      const y: number[] = [];
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 2; c++) y.push(a![r * 2 + c]!);
        for (let c = 0; c < 5; c++) y.push(b![r * 5 + c]!);
      }
      return y;
    }, [{ data: randArray(6, 4), shape: [3, 2] }, { data: randArray(15, 5), shape: [3, 5] }]);
  });
  it('copy broadcastTo sums gradients back', async () => {
    await checkOp('broadcastTo', ([x]) => ops.broadcastTo(x!, [4, 3, 5]), ([x]) => {
      const y = new Float64Array(60);
      for (let i = 0; i < 60; i++) y[i] = x![Math.floor(i / 5) % 3]!;
      return y;
    }, [{ data: randArray(3, 6), shape: [3, 1] }]);
  });
  it('copy keeps integer data bit-exact', async () => {
    const x = fromArray([1, -2, 3, 2147483647, -2147483648, 0], [2, 3], 'i32');
    expect([...(await ops.transpose(x).toArray())]).toEqual([1, 2147483647, -2, -2147483648, 3, 0]);
  });
});
