// fill: the constants (zeros, ones, full, arange) in f32 and i32 at awkward sizes, against the
// values computed on the host.
import { describe, it, expect } from 'vitest';
import { zeros, ones, full, arange } from '../../src/kernels/fill.js';

describe('fill', () => {
  it('fill: zeros, ones, full and arange (f32 and i32) at sizes 1, 7, 33, 129, 257', async () => {
    for (const n of [1, 7, 33, 129, 257]) {
      expect([...(await zeros([n]).toArray())]).toEqual(new Array(n).fill(0));
      expect([...(await ones([n, 1]).toArray())]).toEqual(new Array(n).fill(1));
      expect([...(await full([1, n], -2.25).toArray())]).toEqual(new Array(n).fill(-2.25));
      expect([...(await full([n], 7, 'i32').toArray())]).toEqual(new Array(n).fill(7));
      expect([...(await arange(n, 0.5, 0.25).toArray())]).toEqual(Array.from({ length: n }, (_, i) => 0.5 + 0.25 * i));
      expect([...(await arange(n, -3, 2, 'i32').toArray())]).toEqual(Array.from({ length: n }, (_, i) => -3 + 2 * i));
    }
  });
  it('fill: an empty tensor is made without a launch', async () => {
    expect((await zeros([0, 3]).toArray()).length).toBe(0);
  });
});
