// conv1dFrames: channels-last conv1d reading the unfolded matrix in place (strided matmul rows),
// against the plain-TS conv1d reference on the transposed input, with finite-difference gradients.
import { describe, it, expect, afterEach } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose, gpuGrads } from '../helpers.js';
import { conv1dRef, erf } from '../reference.js';
import { fromArray, noGrad } from '../../src/tensor/tensor.js';
import { dispatches } from '../../src/tensor/runtime.js';

/** [B, A, C] → [B, C, A]. */
function swap(a: ArrayLike<number>, B: number, A: number, C: number): Float64Array {
  const o = new Float64Array(B * A * C);
  for (let b = 0; b < B; b++) for (let i = 0; i < A; i++) for (let c = 0; c < C; c++) o[(b * C + c) * A + i] = a[(b * A + i) * C + c]!;
  return o;
}
/** The reference on channels-last arrays: transpose, conv1d, transpose back. */
function framesRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array | null, hop: number, padding = 0, groups = 1): Float64Array {
  const [B, T, Cin] = xs as [number, number, number];
  const { y, shape } = conv1dRef(swap(x, B, T, Cin), [B, Cin, T], w, ws, b, hop, padding, groups);
  const [, Cout, Tout] = shape as [number, number, number];
  return swap(y, B, Cout, Tout);
}
const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));

describe('conv1dFrames', () => {
  const CASES: Array<[number[], number[], boolean, number]> = [
    // x [B, T, Cin], w [Cout, Cin, K], bias, hop
    [[2, 21, 8], [12, 8, 3], true, 2],    // overlapping frames (hop < K), aligned: the subgroup kernel on CPU adapters
    [[1, 16, 4], [8, 4, 2], false, 2],    // frames that just touch (hop = K), one item
    [[2, 13, 3], [5, 3, 4], true, 1],     // 3 channels: row strides not multiples of 4 (naive kernel)
    [[3, 10, 4], [4, 4, 5], false, 3],    // the last samples belong to no frame
  ];
  for (const [xs, ws, bias, hop] of CASES) {
    it(`conv1dFrames x=${xs} w=${ws} hop=${hop}${bias ? ' bias' : ''}`, async () => {
      const nx = xs.reduce((a, v) => a * v, 1);
      const nw = ws.reduce((a, v) => a * v, 1);
      const inputs = [{ data: randArray(nx, nx), shape: xs }, { data: randArray(nw, nw + 1), shape: ws }];
      if (bias) inputs.push({ data: randArray(ws[0]!, 3), shape: [ws[0]!] });
      await checkOp('conv1dFrames', (t) => ops.conv1dFrames(t[0]!, t[1]!, t[2] ?? null, { stride: hop }),
        (t) => framesRef(t[0]!, xs, t[1]!, ws, t[2] ?? null, hop), inputs, { atol: 2e-5 });
    });
  }

  const GROUPED: Array<[number[], number[], boolean, number, number, number]> = [
    // x [B, T, Cin], w [Cout, Cin/groups, K], bias, hop, padding, groups
    [[2, 11, 8], [8, 2, 6], true, 1, 3, 4],    // WavLM's positional conv in small: groups, even kernel, padding
    [[2, 20, 16], [16, 4, 6], false, 1, 3, 4], // the same with vec4-aligned groups: dx by the transposed product on the subgroup kernel
    [[3, 9, 8], [4, 4, 3], false, 2, 1, 2],    // hop 2: items padded to whole hops, straddling frames dropped
    [[1, 7, 4], [8, 4, 3], true, 1, 2, 1],     // padding alone
    [[2, 10, 6], [9, 2, 4], true, 3, 2, 3],    // 2 channels per group: unaligned strides (naive kernel)
  ];
  for (const [xs, ws, bias, hop, padding, groups] of GROUPED) {
    it(`conv1dFrames x=${xs} w=${ws} hop=${hop} padding=${padding} groups=${groups}`, async () => {
      const nx = xs.reduce((a, v) => a * v, 1);
      const nw = ws.reduce((a, v) => a * v, 1);
      const inputs = [{ data: randArray(nx, nx + 5), shape: xs }, { data: randArray(nw, nw + 6), shape: ws }];
      if (bias) inputs.push({ data: randArray(ws[0]!, 3), shape: [ws[0]!] });
      await checkOp('conv1dFrames', (t) => ops.conv1dFrames(t[0]!, t[1]!, t[2] ?? null, { stride: hop, padding, groups }),
        (t) => framesRef(t[0]!, xs, t[1]!, ws, t[2] ?? null, hop, padding, groups), inputs, { atol: 2e-5 });
    });
  }

  afterEach(() => ops.forceVariant('matmul', null));
  for (const variant of ['subgroup', 'naive', 'tiled'] as const) {
    it(`conv1dFrames: strided rows read by the ${variant} matmul (forward and gradients)`, async () => {
      ops.forceVariant('matmul', variant);
      for (const [xs, ws, hop, padding, groups] of [[[2, 21, 8], [12, 8, 3], 2, 0, 1], [[2, 11, 8], [8, 2, 6], 1, 3, 4]] as Array<[number[], number[], number, number, number]>) {
        const nx = xs.reduce((a, v) => a * v, 1);
        const nw = ws.reduce((a, v) => a * v, 1);
        await checkOp(`conv1dFrames ${variant}`, (t) => ops.conv1dFrames(t[0]!, t[1]!, t[2]!, { stride: hop, padding, groups }),
          (t) => framesRef(t[0]!, xs, t[1]!, ws, t[2]!, hop, padding, groups),
          [{ data: randArray(nx, 11), shape: xs }, { data: randArray(nw, 12), shape: ws }, { data: randArray(ws[0]!, 13), shape: [ws[0]!] }], { atol: 2e-5 });
      }
    });
  }

  it('conv1dFrames: GELU fused without gradients and composed with them both equal gelu(conv)', async () => {
    const xs = [2, 19, 8], ws = [8, 8, 3];
    const x = randArray(2 * 19 * 8, 7), w = randArray(8 * 8 * 3, 8), b = randArray(8, 9);
    const ref = Array.from(framesRef(Float64Array.from(x), xs, Float64Array.from(w), ws, Float64Array.from(b), 2), gelu);
    const fused = noGrad(() => ops.conv1dFrames(fromArray(x, xs), fromArray(w, ws), fromArray(b, [8]), { stride: 2, activation: 'gelu' }));
    expectClose(await fused.toArray(), ref, 2e-5, 1e-4, 'fused GELU');
    await checkOp('conv1dFrames gelu', (t) => ops.conv1dFrames(t[0]!, t[1]!, t[2]!, { stride: 2, activation: 'gelu' }),
      (t) => Array.from(framesRef(t[0]!, xs, t[1]!, ws, t[2]!, 2), gelu),
      [{ data: x, shape: xs }, { data: w, shape: ws }, { data: b, shape: [8] }], { atol: 2e-5 });
  });

  it('conv1dFrames: frame gradients over the binding limit are formed and folded in chunks (by sequence, then by frames), with the same gradients', async () => {
    const { deviceInfo } = await import('../../src/tensor/device.js');
    const lim = deviceInfo().limits as { maxStorageBufferBindingSize: number };
    const saved = lim.maxStorageBufferBindingSize;
    // [x, w, hop, padding, groups, limit]: the frame gradients are 768 bytes for the first
    // (2 chunks of 4 frames under 400), 2 × 528 for the second (one chunk per group under 1000).
    // Hop 2: a hop-1 product takes the transposed product instead (the cases above).
    const cases: Array<[number[], number[], number, number, number, number]> = [[[1, 20, 4], [4, 4, 6], 2, 0, 1, 400], [[2, 9, 4], [4, 2, 6], 2, 2, 2, 1000]];
    try {
      for (const [xs, ws, hop, padding, groups, limit] of cases) {
        Object.defineProperty(lim, 'maxStorageBufferBindingSize', { value: limit, configurable: true });
        const nx = xs.reduce((a, v) => a * v, 1);
        const nw = ws.reduce((a, v) => a * v, 1);
        await checkOp('conv1dFrames chunked fold', (t) => ops.conv1dFrames(t[0]!, t[1]!, null, { stride: hop, padding, groups }),
          (t) => framesRef(t[0]!, xs, t[1]!, ws, null, hop, padding, groups), [{ data: randArray(nx, 21), shape: xs }, { data: randArray(nw, 22), shape: ws }], { atol: 2e-5 });
      }
    } finally {
      Object.defineProperty(lim, 'maxStorageBufferBindingSize', { value: saved, configurable: true });
    }
  });

  it('conv1dFrames: an aligned problem never falls to the naive matmul, forward or backward, even when the frame count is not a multiple of 4', async () => {
    const { profileKernels, kernelProfile, sync } = await import('../../src/tensor/runtime.js');
    const { deviceInfo } = await import('../../src/tensor/device.js');
    expect(profileKernels(true), 'this adapter has timestamp queries').toBe(true);
    kernelProfile(true);
    try {
      // Tout = 10 frames: the weight gradient's sum over frames has a remainder of 2.
      await gpuGrads((t) => ops.conv1dFrames(t[0]!, t[1]!, t[2]!, { stride: 2 }),
        [{ data: randArray(2 * 21 * 8, 31), shape: [2, 21, 8] }, { data: randArray(12 * 8 * 3, 32), shape: [12, 8, 3] }, { data: randArray(12, 33), shape: [12] }]);
      await sync();
    } finally {
      profileKernels(false);
    }
    const stems = [...kernelProfile(true).keys()].filter((k) => k.startsWith('matmul'));
    expect(stems.length).toBeGreaterThan(0);
    if (!deviceInfo().isCpu || ops.hasSubgroupsOf8()) expect(stems.filter((k) => k.includes('naive')), stems.join(', ')).toEqual([]);
  });

  it('conv1dFrames: without gradients, two dispatches (pack the weight, one product) and no unfolded matrix', () => {
    const x = fromArray(randArray(2 * 40 * 8, 1), [2, 40, 8]);
    const w = fromArray(randArray(16 * 8 * 3, 2), [16, 8, 3]);
    const d0 = dispatches();
    const y = noGrad(() => ops.conv1dFrames(x, w, null, { stride: 2, activation: 'gelu' }));
    expect(dispatches() - d0).toBe(2);
    expect(y.shape).toEqual([2, 19, 16]);
  });

  it('conv1dFrames: shape errors name the tensors', () => {
    const x = fromArray(new Float32Array(2 * 10 * 4), [2, 10, 4]);
    expect(() => ops.conv1dFrames(x, fromArray(new Float32Array(8 * 3 * 2), [8, 3, 2]), null)).toThrow(/does not fit channels-last input \[2, 10, 4\]/);
    expect(() => ops.conv1dFrames(x, fromArray(new Float32Array(8 * 4 * 11), [8, 4, 11]), null)).toThrow(/shorter than the kernel 11/);
  });
});
