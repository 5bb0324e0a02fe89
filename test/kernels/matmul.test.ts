// matmul: both kernel variants, every transpose combination, batched and broadcast batches,
// awkward sizes; gradients against finite differences of the float64 reference.
import { describe, it, afterEach, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { checkOp, randArray, expectClose } from '../helpers.js';
import { matmul2, erf } from '../reference.js';
import { deviceInfo } from '../../src/tensor/device.js';

afterEach(() => ops.forceVariant('matmul', null));

function batchedRef(a: Float64Array, b: Float64Array, batch: number, aB: boolean, bB: boolean, M: number, N: number, K: number, ta: boolean, tb: boolean): Float64Array {
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const c = matmul2(aB ? a.subarray(z * M * K, (z + 1) * M * K) : a, bB ? b.subarray(z * K * N, (z + 1) * K * N) : b, M, N, K, ta, tb);
    out.set(c, z * M * N);
  }
  return out;
}

// N from 1 to 260: the subgroup kernel runs workgroups of 8, 16, 32 and 64 lanes (one per 4 columns).
const CASES: Array<[number, number, number]> = [[1, 1, 1], [7, 5, 3], [33, 9, 17], [8, 4, 4], [33, 36, 20], [9, 100, 8], [129, 12, 8], [2, 260, 12]];

for (const variant of ['tiled', 'subgroup', 'naive'] as const) {
  describe(`matmul ${variant}`, () => {
    it(`matmul ${variant}: 2-D, all transpose flags, awkward sizes`, async () => {
      if (variant === 'subgroup' && !deviceInfo().hasSubgroups) return expect(deviceInfo().hasSubgroups).toBe(false);
      for (const [M, N, K] of CASES) {
        for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
          ops.forceVariant('matmul', variant);
          await checkOp(`${variant} ${M}x${N}x${K} ta=${ta} tb=${tb}`,
            ([a, b]) => ops.matmul(a!, b!, { transA: ta, transB: tb }),
            ([a, b]) => matmul2(a!, b!, M, N, K, ta, tb),
            [{ data: randArray(M * K, M + K), shape: ta ? [K, M] : [M, K] }, { data: randArray(K * N, K + N + 1), shape: tb ? [N, K] : [K, N] }],
            { atol: 2e-5 });
        }
      }
    });
    it(`matmul ${variant}: Aᵀ·B where M is a multiple of 4 (the subgroup kernel's vec4 reads of A): partial row blocks, 8-row blocks, batched`, async () => {
      if (variant === 'subgroup' && !deviceInfo().hasSubgroups) return expect(deviceInfo().hasSubgroups).toBe(false);
      ops.forceVariant('matmul', variant);
      for (const [M, N, K] of [[4, 8, 8], [8, 4, 12], [12, 20, 16], [36, 12, 24], [68, 8, 4]] as Array<[number, number, number]>) {
        await checkOp(`${variant} tn ${M}x${N}x${K}`, ([a, b]) => ops.matmul(a!, b!, { transA: true }), ([a, b]) => matmul2(a!, b!, M, N, K, true, false),
          [{ data: randArray(M * K, M + 3 * K), shape: [K, M] }, { data: randArray(K * N, N + 5 * K), shape: [K, N] }], { atol: 2e-5 });
      }
      const [B, M, N, K] = [3, 20, 8, 12];
      await checkOp(`${variant} tn batched`, ([a, b]) => ops.matmul(a!, b!, { transA: true }), ([a, b]) => batchedRef(a!, b!, B, true, true, M, N, K, true, false),
        [{ data: randArray(B * M * K, 9), shape: [B, K, M] }, { data: randArray(B * K * N, 10), shape: [B, K, N] }], { atol: 2e-5 });
    });
    it(`matmul ${variant}: batched, broadcast batch, 4-D`, async () => {
      ops.forceVariant('matmul', variant);
      const [B, M, N, K] = [3, 7, 8, 12];
      await checkOp('3d', ([a, b]) => ops.matmul(a!, b!), ([a, b]) => batchedRef(a!, b!, B, true, true, M, N, K, false, false),
        [{ data: randArray(B * M * K, 1), shape: [B, M, K] }, { data: randArray(B * K * N, 2), shape: [B, K, N] }], { atol: 2e-5 });
      await checkOp('3d·2d', ([a, b]) => ops.matmul(a!, b!), ([a, b]) => batchedRef(a!, b!, B, true, false, M, N, K, false, false),
        [{ data: randArray(B * M * K, 3), shape: [B, M, K] }, { data: randArray(K * N, 4), shape: [K, N] }], { atol: 2e-5 });
      await checkOp('2d·3d', ([a, b]) => ops.matmul(a!, b!), ([a, b]) => batchedRef(a!, b!, B, false, true, M, N, K, false, false),
        [{ data: randArray(M * K, 5), shape: [M, K] }, { data: randArray(B * K * N, 6), shape: [B, K, N] }], { atol: 2e-5 });
      await checkOp('4d qkᵀ', ([a, b]) => ops.matmul(a!, b!, { transB: true }), ([a, b]) => batchedRef(a!, b!, 6, true, true, M, M, K, false, true),
        [{ data: randArray(6 * M * K, 7), shape: [2, 3, M, K] }, { data: randArray(6 * M * K, 8), shape: [2, 3, M, K] }], { atol: 2e-5 });
    });
    it(`matmul ${variant}: a bias added as C is stored equals matmul + bias, forward and gradients (dbias = column sums)`, async () => {
      if (variant === 'subgroup' && !deviceInfo().hasSubgroups) return expect(deviceInfo().hasSubgroups).toBe(false);
      const withBias = (c: Float64Array, bias: Float64Array, N: number): Float64Array => c.map((v, i) => v + bias[i % N]!);
      for (const [M, N, K] of [[7, 5, 3], [33, 36, 20], [2, 260, 12]] as Array<[number, number, number]>) {
        for (const [ta, tb] of [[false, false], [false, true], [true, false]] as const) {
          ops.forceVariant('matmul', variant);
          await checkOp(`${variant} bias ${M}x${N}x${K} ta=${ta} tb=${tb}`,
            ([a, b, bias]) => ops.matmul(a!, b!, { transA: ta, transB: tb, bias }),
            ([a, b, bias]) => withBias(matmul2(a!, b!, M, N, K, ta, tb), bias!, N),
            [{ data: randArray(M * K, M + K), shape: ta ? [K, M] : [M, K] }, { data: randArray(K * N, K + N + 1), shape: tb ? [N, K] : [K, N] }, { data: randArray(N, N + 2), shape: [N] }],
            { atol: 2e-5 });
        }
      }
      // Batched: one bias for every batch entry, and its gradient summed over them.
      const [B, M, N, K] = [3, 7, 8, 12];
      await checkOp(`${variant} bias 3d`, ([a, b, bias]) => ops.matmul(a!, b!, { bias }), ([a, b, bias]) => withBias(batchedRef(a!, b!, B, true, true, M, N, K, false, false), bias!, N),
        [{ data: randArray(B * M * K, 1), shape: [B, M, K] }, { data: randArray(B * K * N, 2), shape: [B, K, N] }, { data: randArray(N, 3), shape: [N] }], { atol: 2e-5 });
    });
    it(`matmul ${variant}: the epilogue's residual (with gradients) and GELU (fused without gradients, composed with them) equal the separate ops`, async () => {
      if (variant === 'subgroup' && !deviceInfo().hasSubgroups) return expect(deviceInfo().hasSubgroups).toBe(false);
      const { noGrad, fromArray } = await import('../../src/tensor/tensor.js');
      const { dispatches } = await import('../../src/tensor/runtime.js');
      const geluRef = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
      for (const [M, N, K, tb] of [[7, 5, 3, true], [33, 36, 20, false]] as Array<[number, number, number, boolean]>) {
        const ref = (a: Float64Array, b: Float64Array, bias: Float64Array, r: Float64Array, act: boolean): Float64Array =>
          matmul2(a, b, M, N, K, false, tb).map((v, i) => (act ? geluRef(v + bias[i % N]!) : v + bias[i % N]!) + r[i]!);
        const inputs = [
          { data: randArray(M * K, M + K), shape: [M, K] }, { data: randArray(K * N, K + N + 1), shape: tb ? [N, K] : [K, N] },
          { data: randArray(N, N + 2), shape: [N] }, { data: randArray(M * N, 5, -2, 2), shape: [M, N] },
        ];
        ops.forceVariant('matmul', variant);
        await checkOp(`${variant} residual ${M}x${N}x${K}`, ([a, b, bias, r]) => ops.matmul(a!, b!, { transB: tb, bias, residual: r }),
          ([a, b, bias, r]) => ref(a!, b!, bias!, r!, false), inputs, { atol: 2e-5 });
        await checkOp(`${variant} gelu+residual with gradients ${M}x${N}x${K}`, ([a, b, bias, r]) => ops.matmul(a!, b!, { transB: tb, bias, residual: r, activation: 'gelu' }),
          ([a, b, bias, r]) => ref(a!, b!, bias!, r!, true), inputs, { atol: 2e-5 });
        // Without gradients: one dispatch, the same values.
        const [a, b, bias, r] = inputs.map((i) => fromArray(i.data, i.shape));
        const d0 = dispatches();
        const y = noGrad(() => ops.matmul(a!, b!, { transB: tb, bias, residual: r, activation: 'gelu' }));
        expect(dispatches() - d0).toBe(1);
        expectClose(await y.toArray(), ref(...(inputs.map((i) => Float64Array.from(i.data)) as [Float64Array, Float64Array, Float64Array, Float64Array]), true), 2e-5, 1e-4, `${variant} fused gelu`);
      }
    });
  });
}

describe('matmul errors', () => {
  it('matmul names both shapes when inner dimensions differ', async () => {
    const { fromArray } = await import('../../src/tensor/tensor.js');
    expect(() => ops.matmul(fromArray(new Float32Array(6), [2, 3]), fromArray(new Float32Array(8), [4, 2]))).toThrow(/\[2, 3\] · \[4, 2\]/);
    expect(() => ops.matmul(fromArray(new Float32Array(6), [2, 3]), fromArray(new Float32Array(6), [3, 2]), { bias: fromArray(new Float32Array(3), [3]) })).toThrow(/matmul: bias must be \[2\] \(one value per output column\), got \[3\]/);
    expect(() => ops.matmul(fromArray(new Float32Array(6), [2, 3]), fromArray(new Float32Array(6), [3, 2]), { residual: fromArray(new Float32Array(2), [1, 2]) })).toThrow(/matmul: residual must have the result's shape \[2, 2\], got \[1, 2\]/);
  });
});

describe('matmul padding', () => {
  it('matmul: large unaligned problems on CPU adapters run padded through the subgroup kernel, exactly, with gradients', async () => {
    // K = 301 and N = 103 are not multiples of 4; 2·M·N·K is above the padding threshold.
    const [M, N, K] = [300, 103, 301];
    const { gpuGrads, expectClose } = await import('../helpers.js');
    const { dispatches } = await import('../../src/tensor/runtime.js');
    const A = randArray(M * K, 1);
    const B = randArray(K * N, 2);
    const dy = randArray(M * N, 3);
    const d0 = dispatches();
    const { y, grads } = await gpuGrads(([a, b]) => ops.matmul(a!, b!), [{ data: A, shape: [M, K] }, { data: B, shape: [K, N] }], dy);
    if (deviceInfo().isCpu && deviceInfo().hasSubgroups) expect(dispatches() - d0).toBeGreaterThan(6); // pads, slices and their backward
    const a64 = Float64Array.from(A);
    const b64 = Float64Array.from(B);
    const g64 = Float64Array.from(dy);
    expectClose(y, matmul2(a64, b64, M, N, K), 1e-4, 1e-4, 'forward');
    expectClose(grads[0]!, matmul2(g64, b64, M, K, N, false, true), 1e-4, 1e-4, 'dA = dY·Bᵀ');
    expectClose(grads[1]!, matmul2(a64, g64, K, N, M, true, false), 1e-4, 1e-4, 'dB = Aᵀ·dY');
    // With a bias (a Linear layer of 103 outputs): the bias is padded and sliced off too.
    const bias = randArray(N, 4);
    const withBias = await gpuGrads(([a, b, c]) => ops.matmul(a!, b!, { bias: c }), [{ data: A, shape: [M, K] }, { data: B, shape: [K, N] }, { data: bias, shape: [N] }], dy);
    expectClose(withBias.y, matmul2(a64, b64, M, N, K).map((v, i) => v + bias[i % N]!), 1e-4, 1e-4, 'forward + bias');
    expectClose(withBias.grads[2]!, Array.from({ length: N }, (_, n) => { let t = 0; for (let m = 0; m < M; m++) t += dy[m * N + n]!; return t; }), 1e-4, 1e-4, 'dbias');
  });

  it('matmul: a transposed A whose rows are not a multiple of 4 long (attention\'s Pᵀ·dO at an odd T) runs padded on the subgroup kernel, not the naive one', async () => {
    // Pᵀ·dO per head: P [T, T], dO [T, 64], T = 203. K = T is padded to 204; A's stored rows stay
    // T = 203 long, which the kernel reads as scalars, so the product needs no vec4-aligned A.
    const [Z, T, D] = [4, 203, 64];
    const { profileKernels, kernelProfile, sync } = await import('../../src/tensor/runtime.js');
    const { fromArray } = await import('../../src/tensor/tensor.js');
    const P = randArray(Z * T * T, 5);
    const dO = randArray(Z * T * D, 6);
    expect(profileKernels(true), 'this adapter has timestamp queries').toBe(true);
    kernelProfile(true);
    let y: Float32Array;
    try {
      y = await ops.matmul(fromArray(P, [Z, T, T]), fromArray(dO, [Z, T, D]), { transA: true }).toArray() as Float32Array;
      await sync();
    } finally {
      profileKernels(false);
    }
    expectClose(y, batchedRef(Float64Array.from(P), Float64Array.from(dO), Z, true, true, T, D, T, true, false), 1e-4, 1e-4, 'Pᵀ·dO');
    const stems = [...kernelProfile(true).keys()].filter((k) => k.startsWith('matmul'));
    if (deviceInfo().isCpu && ops.hasSubgroupsOf8()) expect(stems, stems.join(', ')).toEqual(['matmul.subgroup.tn']);
  });
});
