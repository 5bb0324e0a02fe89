// The tensor core: creation, views, errors for bad input, tidy/dispose, memory stats, the
// kernel registry compiling on this adapter, and a small MLP that trains in flat memory.
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { fromArray, randn, rand, tidy, noGrad, Tensor, keep } from '../../src/tensor/tensor.js';
import { zeros, full, arange } from '../../src/kernels/fill.js';
import { memoryStats } from '../../src/tensor/pool.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { dispatch, flush } from '../../src/tensor/runtime.js';
import { AdamW } from '../../src/train/optimizer.js';
import { expectClose } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

describe('tensor', () => {
  it('tensor creation: zeros, full, arange (f32 and i32), seeded rand/randn', async () => {
    expect([...(await zeros([2, 3]).toArray())]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...(await full([3], 2.5).toArray())]).toEqual([2.5, 2.5, 2.5]);
    expect([...(await arange(4, 1, 2).toArray())]).toEqual([1, 3, 5, 7]);
    expect([...(await arange(3, -1, 1, 'i32').toArray())]).toEqual([-1, 0, 1]);
    expect([...(await randn([5], 7).toArray())]).toEqual([...(await randn([5], 7).toArray())]);
    const r = await rand([1000], 1, -2, 3).toArray();
    expect(Math.min(...r)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...r)).toBeLessThan(3);
    const n = (await randn([20000], 3).toArray()) as Float32Array;
    const m = n.reduce((a, b) => a + b, 0) / n.length;
    const v = n.reduce((a, b) => a + (b - m) ** 2, 0) / n.length;
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });
  it('tensor reshape is a view sharing the buffer; -1 infers a dimension', async () => {
    const a = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = a.reshape([3, -1]);
    expect(b.shape).toEqual([3, 2]);
    expect(b.buffer).toBe(a.buffer);
    a.dispose();
    expect([...(await b.toArray())]).toEqual([1, 2, 3, 4, 5, 6]); // the view keeps the storage alive
    expect(() => b.reshape([4, 2])).toThrow(/cannot view \[3, 2\] \(6 elements\) as \[4, 2\]/);
  });
  it('tensor errors: shape mismatch names both shapes, dtype mismatch, use after dispose', () => {
    const a = fromArray(new Float32Array(6), [2, 3]);
    expect(() => ops.add(a, fromArray(new Float32Array(4), [4]))).toThrow(/\[2, 3\] and \[4\] cannot be broadcast/);
    expect(() => ops.exp(fromArray([1, 2], [2], 'i32'))).toThrow(/expected a f32 tensor, got i32/);
    const d = zeros([3]);
    d.dispose();
    expect(() => ops.exp(d)).toThrow(/used after dispose/);
    expect(() => fromArray([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => ops.sum(a, 2)).toThrow(/axis 2 is out of range for shape \[2, 3\]/);
    expect(() => ops.slice(a, [0, 1], [2, 3])).toThrow(/out of range for dimension 1/);
  });
  it('tensor: a WebGPU validation error surfaces as a JS error naming the kernel', () => {
    const bad = { stem: 'broken_kernel', source: '@compute @workgroup_size(1) fn main() { let x: u32 = "no"; }' };
    expect(() => {
      dispatch(bad, { buffers: [], workgroups: [1] });
      flush();
    }).toThrow(/broken_kernel/);
    flush(); // the error is consumed; the device keeps working
  });
  it('tensor autograd: accumulation on leaves, noGrad, detach, shared inputs', async () => {
    const x = fromArray([1, 2, 3]);
    x.requiresGrad = true;
    const y = ops.sum(ops.mul(x, x)); // d/dx = 2x, x used twice
    backward(y);
    expect([...(await x.grad!.toArray())]).toEqual([2, 4, 6]);
    backward(ops.sum(ops.scale(x, 3))); // accumulates: + 3
    expect([...(await x.grad!.toArray())]).toEqual([5, 7, 9]);
    const z = noGrad(() => ops.mul(x, x));
    expect(z.requiresGrad).toBe(false);
    expect(x.detach().requiresGrad).toBe(false);
    expect(() => backward(z)).toThrow(/does not require grad/);
  });
  it('tensor tidy frees intermediates, keeps results and kept tensors', () => {
    const before = memoryStats().liveBuffers;
    let kept: Tensor | null = null;
    const out = tidy(() => {
      const a = full([100], 1);
      const b = ops.exp(a);
      kept = keep(ops.scale(b, 2));
      return ops.add(a, b);
    });
    expect(memoryStats().liveBuffers).toBe(before + 2);
    out.dispose();
    kept!.dispose();
    expect(memoryStats().liveBuffers).toBe(before);
  });
  it('runtime waits on a CPU adapter: the JS thread spins at nice 19 while the adapter\'s threads keep their priority', async () => {
    const { deviceInfo } = await import('../../src/tensor/device.js');
    const { readdirSync, readFileSync } = await import('node:fs');
    const info = deviceInfo();
    if (!info.isCpu || process.platform !== 'linux' || process.env.CRAB_NO_NICE === '1') {
      expect(info.yieldingWaits).toBe(false);
      return;
    }
    const tasks = readdirSync('/proc/self/task').map(Number).sort((a, b) => a - b).map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { tid, comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(fields[16]) };
    });
    // As root the priority can be raised back for each new device, so waits always yield here.
    if (process.getuid?.() === 0) expect(info.yieldingWaits).toBe(true);
    if (!info.yieldingWaits) return; // a reopened device without the right to raise it back: sleeps instead
    expect(tasks.find((t) => t.tid === process.pid)!.nice).toBe(19);
    // The current device's workers (the newest llvmpipe threads) run at normal priority.
    const workers = tasks.filter((t) => t.comm.startsWith('llvmpipe-'));
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers.slice(-2)) expect(w.nice, `${w.comm} (${w.tid})`).toBe(0);
  });
  it('runtime sleep calibration: learns from plain waits, ignores waits that compiled a pipeline, moves at most 4× a step, halves after oversleeping', async () => {
    const { nextSecondsPerWork } = await import('../../src/tensor/runtime.js');
    const prev = 1 / 15e9;
    // 1e9 units in 0.1 s: halfway (0.3 weight) towards 1e-10 s per unit.
    expect(nextSecondsPerWork(prev, 0.1, 1e9, 0)).toBeCloseTo(0.7 * prev + 0.3 * 1e-10, 20);
    // A cold shader cache: 5 s of compiling before a tiny workload must not teach anything.
    expect(nextSecondsPerWork(prev, 5, 1e6, 1)).toBe(prev);
    // Without the compile flag a wild wait moves the estimate by at most 4× (weighted 0.3).
    expect(nextSecondsPerWork(prev, 5, 1e6, 0)).toBeCloseTo(0.7 * prev + 0.3 * 4 * prev, 20);
    expect(nextSecondsPerWork(prev, 0.001, 1e9, 0)).toBe(prev); // too short to measure
    // Woke to find the GPU done: the wait only bounds the time from above; halve, whatever it says.
    expect(nextSecondsPerWork(prev, 0.1, 1e9, 0, true)).toBe(prev / 2);
    expect(nextSecondsPerWork(prev, 5, 1e6, 1, true)).toBe(prev); // compiling still teaches nothing
  });
  it('runtime profiler: GPU time per kernel and entry point from timestamp queries, off again afterwards', async () => {
    const { profileKernels, kernelProfile, sync } = await import('../../src/tensor/runtime.js');
    const on = profileKernels(true);
    expect(on).toBe(deviceInfo().hasTimestamps);
    if (!on) return;
    kernelProfile(true);
    const a = fromArray(Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3), [64, 64]);
    const b = ops.matmul(a, a);
    const c = ops.matmul(b, a, { transB: true });
    await sync();
    profileKernels(false);
    const prof = kernelProfile(true);
    const mm = [...prof].filter(([k]) => k.startsWith('matmul'));
    // Two products, each timed once: positive, finite, and well under the 10 s this test may take.
    expect(mm.reduce((n, [, e]) => n + e.count, 0)).toBe(2);
    for (const [, e] of mm) expect(e.ms > 0 && e.ms < 10_000).toBe(true);
    ops.add(c, c);
    await sync();
    expect(kernelProfile().size).toBe(0); // off: nothing recorded
    for (const t of [a, b, c]) t.dispose();
  });
  it('runtime profiler: dispatches are attributed to the scopes the models mark, and each op\'s backward to its scope with " (backward)"', async () => {
    const { profileKernels, scopeProfile, profileScope, sync } = await import('../../src/tensor/runtime.js');
    const { backward } = await import('../../src/kernels/autograd.js');
    if (!profileKernels(true)) return expect(deviceInfo().hasTimestamps).toBe(false);
    scopeProfile(true);
    const w = fromArray(Array.from({ length: 16 * 16 }, (_, i) => ((i % 5) - 2) / 8), [16, 16]);
    w.requiresGrad = true;
    const x = fromArray(Array.from({ length: 8 * 16 }, (_, i) => (i % 3) - 1), [8, 16]);
    const loss = tidy(() => {
      const y = profileScope('layer.0', () => {
        const h = ops.matmul(x, w);
        return profileScope('inner', () => ops.matmul(h, w));
      });
      const l = ops.sum(y);
      backward(l);
      return l;
    });
    await sync();
    profileKernels(false);
    const scopes = scopeProfile(true);
    expect(scopes.get('layer.0')?.count).toBe(1);
    expect(scopes.get('layer.0/inner')?.count).toBe(1);
    // Each product's backward under its own scope: x·w needs only dW (x takes no gradient); h·w needs dh and dW.
    expect(scopes.get('layer.0 (backward)')?.count).toBe(1);
    expect(scopes.get('layer.0/inner (backward)')?.count).toBe(2);
    expect(scopes.has('')).toBe(true); // the sum, the seed and its backward ran outside any scope
    for (const t of [w, x, loss, w.grad!]) t.dispose();
  });
});

describe('mlp training', () => {
  it('mlp: a 2-layer MLP learns a nonlinear function; loss falls and live memory stays flat', async () => {
    // Target: y = sin(3·x0) + x1·x2, 256 points in [-1, 1]³.
    const N = 256;
    const X = new Float32Array(N * 3);
    const Y = new Float32Array(N);
    const xs = await rand([N * 3], 11, -1, 1).toArray();
    X.set(xs);
    for (let i = 0; i < N; i++) Y[i] = Math.sin(3 * X[i * 3]!) + X[i * 3 + 1]! * X[i * 3 + 2]!;
    const x = fromArray(X, [N, 3]);
    const y = fromArray(Y, [N, 1]);
    const H = 32;
    const params = [randn([H, 3], 1, 0.5), zeros([H]), randn([1, H], 2, 0.2), zeros([1])];
    params.forEach((p) => (p.requiresGrad = true));
    const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
    const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0 });
    const losses: number[] = [];
    const live: number[] = [];
    for (let step = 0; step < 300; step++) {
      const loss = tidy(() => {
        const h = ops.gelu(ops.linear(x, w1, b1));
        const d = ops.sub(ops.linear(h, w2, b2), y);
        const l = ops.mean(ops.square(d));
        backward(l);
        opt.step();
        opt.zeroGrad();
        return l;
      });
      if (step % 50 === 0 || step === 299) losses.push(await loss.item());
      loss.dispose();
      if (step >= 10) live.push(memoryStats().liveBytes);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.1);
    expect(Math.max(...live)).toBe(Math.min(...live)); // flat: nothing grows from step to step
    // and the trained net really fits: compare with a host evaluation of the same weights
    const [W1, B1, W2, B2] = await Promise.all(params.map((p) => p.toArray()));
    let mse = 0;
    for (let i = 0; i < N; i++) {
      let o = B2![0]!;
      for (let j = 0; j < H; j++) {
        let a = B1![j]!;
        for (let k = 0; k < 3; k++) a += W1![j * 3 + k]! * X[i * 3 + k]!;
        const g = 0.5 * a * (1 + erfApprox(a / Math.SQRT2));
        o += W2![j]! * g;
      }
      mse += (o - Y[i]!) ** 2 / N;
    }
    expectClose([mse], [losses.at(-1)!], 2e-3, 0.1, 'host-evaluated loss of the trained weights');
  });
});

function erfApprox(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
}

describe('binding limits', () => {
  it('rowChunks: chunks fit the limit, start aligned and cover every row once', async () => {
    const { rowChunks } = await import('../../src/kernels/util.js');
    expect(rowChunks(10, 3, 1000, 256)).toEqual([[0, 10, 0, 120]]);
    const chunks = rowChunks(50265, 768, 134217728, 256);
    let next = 0;
    for (const [first, count, offset, size] of chunks) {
      expect(first).toBe(next);
      expect(offset % 256).toBe(0);
      expect(size).toBeLessThanOrEqual(134217728);
      expect(size).toBe(count * 768 * 4);
      next += count;
    }
    expect(next).toBe(50265);
    expect(chunks.length).toBe(2);
    const odd = rowChunks(1000, 3, 1000, 256); // 12-byte rows: chunks of 64 rows keep offsets aligned
    expect(odd.every(([, , off]) => off % 256 === 0)).toBe(true);
    expect(odd.reduce((s, c) => s + c[1], 0)).toBe(1000);
  });
});
