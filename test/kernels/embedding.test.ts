// conv1d (stride, padding, groups) via im2col + matmul; embedding gather/scatter; dropout.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { randArray, gpuGrads } from '../helpers.js';
import { fromArray, tidy, keep } from '../../src/tensor/tensor.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { rowChunks } from '../../src/kernels/util.js';
import { backward } from '../../src/kernels/autograd.js';

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
  it('embedding: a table larger than one storage binding (roberta-base\'s word embedding on lavapipe) is gathered and scattered in chunks', async () => {
    const limit = deviceInfo().limits.maxStorageBufferBindingSize;
    const D = 256;
    const V = Math.floor(limit / (D * 4)) + 300; // just over the limit: two chunks
    expect(rowChunks(V, D).length).toBeGreaterThan(1);
    const W = new Float32Array(V * D);
    for (let r = 0; r < V; r++) W.fill(r, r * D, (r + 1) * D);
    W[(V - 1) * D + 7] = -1; // one distinct value in the last row
    const w = keep(fromArray(W, [V, D]));
    w.requiresGrad = true;
    const picks = [0, 5, V - 1, Math.floor(limit / (D * 4)) - 1, Math.floor(limit / (D * 4)), V - 1, 5];
    const ids = fromArray(picks, [picks.length], 'i32');
    const y = keep(tidy(() => ops.embedding(ids, w)));
    const got = await y.toArray();
    picks.forEach((id, n) => expect([...got.slice(n * D, (n + 1) * D)]).toEqual([...W.slice(id * D, (id + 1) * D)]));
    // Backward: each picked row's gradient is the number of times it was picked (dy = 1).
    tidy(() => backward(ops.sum(y)));
    const g = await w.grad!.toArray();
    const count = new Map<number, number>();
    for (const id of picks) count.set(id, (count.get(id) ?? 0) + 1);
    for (const r of [0, 1, 5, picks[3]!, picks[4]!, V - 2, V - 1]) expect(g[r * D + 3]).toBe(count.get(r) ?? 0);
    for (const t of [w, y, w.grad!]) t.dispose();
  });
});
