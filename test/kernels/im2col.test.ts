// conv1d (stride, padding, groups) via im2col + matmul; embedding gather/scatter; dropout.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray } from '../helpers.js';
import { conv1dRef } from '../reference.js';
import { fromArray } from '../../src/tensor/tensor.js';

describe('conv1d', () => {
  const CASES: Array<[number[], number[], boolean, number, number, number]> = [
    // x shape, w shape, bias, stride, padding, groups
    [[2, 3, 33], [4, 3, 10], false, 5, 0, 1],
    [[1, 4, 7], [6, 4, 3], true, 2, 0, 1],
    [[2, 2, 9], [3, 2, 2], false, 2, 0, 1],
    [[2, 8, 11], [8, 2, 6], true, 1, 3, 4],   // grouped, even kernel, padding (like WavLM's pos conv)
    [[1, 1, 129], [2, 1, 3], true, 1, 1, 1],
  ];
  for (const [xs, ws, bias, stride, padding, groups] of CASES) {
    it(`conv1d x=${xs} w=${ws} stride=${stride} pad=${padding} groups=${groups}`, async () => {
      const nx = xs.reduce((a, b) => a * b, 1);
      const nw = ws.reduce((a, b) => a * b, 1);
      const inputs = [{ data: randArray(nx, nx), shape: xs }, { data: randArray(nw, nw), shape: ws }];
      if (bias) inputs.push({ data: randArray(ws[0]!, 3), shape: [ws[0]!] });
      await checkOp('conv1d', (t) => ops.conv1d(t[0]!, t[1]!, t[2] ?? null, { stride, padding, groups }),
        (t) => conv1dRef(t[0]!, xs, t[1]!, ws, t[2] ?? null, stride, padding, groups).y, inputs, { atol: 2e-5 });
    });
  }
});

describe('conv1d large', () => {
  it('conv1d: splitting by group and by item (for im2col matrices above the binding limit) gives the same result', async () => {
    const { deviceInfo } = await import('../../src/tensor/device.js');
    const { expectClose } = await import('../helpers.js');
    const lim = deviceInfo().limits as { maxStorageBufferBindingSize: number };
    const saved = lim.maxStorageBufferBindingSize;
    // [x shape, w shape, groups]: the im2col matrix is 2304 bytes (split by group) and 1152 (split by item).
    for (const [xs, ws, groups] of [[[2, 8, 11], [8, 2, 6], 4], [[2, 2, 11], [4, 2, 6], 1]] as Array<[number[], number[], number]>) {
      const x = fromArray(randArray(xs.reduce((a, v) => a * v, 1), 1), xs);
      const w = fromArray(randArray(ws.reduce((a, v) => a * v, 1), 2), ws);
      const b = fromArray(randArray(ws[0]!, 3), [ws[0]!]);
      const ref = conv1dRef(Float64Array.from(await x.toArray()), xs, Float64Array.from(await w.toArray()), ws, Float64Array.from(await b.toArray()), 1, 3, groups).y;
      let y;
      const { dispatches } = await import('../../src/tensor/runtime.js');
      try {
        Object.defineProperty(lim, 'maxStorageBufferBindingSize', { value: 1000, configurable: true });
        const d0 = dispatches();
        y = ops.conv1d(x, w, b, { padding: 3, groups });
        expect(dispatches() - d0, 'the split path ran').toBeGreaterThan(8); // unsplit: im2col, matmul, permute, add
      } finally {
        Object.defineProperty(lim, 'maxStorageBufferBindingSize', { value: saved, configurable: true });
      }
      expectClose(await y.toArray(), ref, 1e-5, 1e-4, `split conv groups=${groups}`);
    }
  });
});
