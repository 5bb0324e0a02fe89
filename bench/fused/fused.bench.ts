// `npm run bench -- fused`: each fused kernel against its composed reference (basic engine ops)
// in the same run: forward+backward time, speedup and peak GPU bytes.
import { fromArray, tidy, Tensor, Rng, keep } from '../../src/tensor/tensor.js';
import { sync, profileKernels, kernelProfile } from '../../src/tensor/runtime.js';
import { memoryStats, resetPeak } from '../../src/tensor/pool.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { attention, attentionComposed, contrastiveLoss, contrastiveComposed, crossEntropy, crossEntropyComposed } from '../../src/kernels/index.js';
import { BiGRU, biGruComposed } from '../../src/model/gru.js';
import { time, report, compareTime, type Row } from '../util.js';
import { backward } from '../../src/kernels/autograd.js';

function randT(shape: number[], seed: number, grad = true): Tensor {
  const g = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const t = keep(fromArray(Float32Array.from({ length: n }, () => g.normal()), shape));
  t.requiresGrad = grad;
  return t;
}

/** Times `f` (a scalar-valued closure) and its backward when it has one; records peak bytes above the baseline. */
async function measure(rows: Row[], workload: string, impl: string, f: () => Tensor, leaves: Tensor[], reps: number): Promise<void> {
  const run = async (): Promise<void> => {
    tidy(() => {
      const y = f();
      if (y.requiresGrad) backward(y);
    });
    await sync();
    for (const l of leaves) {
      l.grad?.dispose();
      l.grad = null;
    }
  };
  // Warm-up: compiles pipelines and lets the runtime's sleep-before-wait calibration settle on
  // this workload (it is one factor for all kernels, adapted after each wait), so neither side
  // is timed with the previous workload's calibration. Long runs get one.
  const w0 = performance.now();
  await run();
  if (performance.now() - w0 < 2000) for (let i = 0; i < 3; i++) await run();
  const base = memoryStats().liveBytes;
  resetPeak();
  const ms = await time(run, reps, 0);
  const peak = memoryStats().peakBytes - base;
  // GPU time from timestamp queries: the kernels' own time, free of the sleep-before-wait
  // estimate (absent without timestamp queries).
  let gpuMs: number | undefined;
  if (profileKernels(true)) {
    // Best of 3 (lavapipe's GPU time is CPU time, as noisy as the host), or of 1 past 20 s a run.
    for (let i = 0; i < 3 && (i === 0 || gpuMs! < 20_000); i++) {
      kernelProfile(true);
      await run();
      const total = [...kernelProfile(true).values()].reduce((s, e) => s + e.ms, 0);
      gpuMs = Math.min(gpuMs ?? Infinity, total);
    }
    profileKernels(false);
  }
  rows.push({ workload, impl, ms, gpuMs, rate: peak / 2 ** 20, unit: 'MiB peak' });
}

const sumAll = (t: Tensor): Tensor => {
  // a scalar objective that touches every output element
  const flat = t.reshape([t.size]);
  return flat.size ? tidySum(flat) : flat;
};
let tidySum: (t: Tensor) => Tensor;

export async function benchFused(opts: { quick?: boolean } = {}): Promise<void> {
  const { sum } = await import('../../src/kernels/index.js');
  tidySum = (t) => sum(t);
  const rows: Row[] = [];
  const reps = opts.quick ? 1 : 3;
  // attention
  for (const [T, withBias] of [[256, false], [256, true], [750, false], [750, true]] as const) {
    const [B, H, D] = [4, 12, 64];
    const q = randT([B, H, T, D], 1), k = randT([B, H, T, D], 2), v = randT([B, H, T, D], 3);
    const bias = withBias ? randT([B, H, T, T], 4, false) : null;
    const w = `attention B${B} H${H} T=S=${T} Dh${D}${withBias ? ' +bias' : ''} fwd+bwd`;
    const r = T > 300 ? 1 : reps;
    // `attention` runs the registry's choice: the subgroup kernels on a CPU adapter (attention.subgroup.wgsl), the fused one on a GPU.
    await measure(rows, w, 'crab fused', () => sumAll(attention(q, k, v, { bias })), [q, k, v], r);
    await measure(rows, w, 'composed', () => sumAll(attentionComposed(q, k, v, { bias })), [q, k, v], r);
    // Forward alone (inference: feature extraction), no gradients kept.
    const wf = w.replace('fwd+bwd', 'fwd');
    const frozen = [q, k, v].map((t) => {
      t.requiresGrad = false;
      return t;
    });
    await measure(rows, wf, 'crab fused', () => sumAll(attention(frozen[0]!, frozen[1]!, frozen[2]!, { bias })), [], r);
    await measure(rows, wf, 'composed', () => sumAll(attentionComposed(frozen[0]!, frozen[1]!, frozen[2]!, { bias })), [], r);
    for (const t of [q, k, v, bias]) t?.dispose();
  }
  // contrastive
  for (const N of [256, 1024, 4096]) {
    const D = 512;
    const f = randT([N, D], 5);
    const y = fromArray(Array.from({ length: N }, (_, i) => (i * 7) % 9), [N], 'i32');
    const w = `multi-positive contrastive N=${N} D=${D} fwd+bwd`;
    const r = N > 2000 ? 1 : reps;
    await measure(rows, w, 'crab fused', () => contrastiveLoss(f, y), [f], r);
    await measure(rows, w, 'composed', () => contrastiveComposed(f, y), [f], r);
    f.dispose();
  }
  // weighted cross-entropy
  {
    const [N, C] = [4096, 8];
    const z = randT([N, C], 6);
    const y = fromArray(Array.from({ length: N }, (_, i) => i % C), [N], 'i32');
    const wt = fromArray(Array.from({ length: C }, (_, c) => 1 + c / 4));
    const w = `weighted cross-entropy N=${N} C=${C} fwd+bwd`;
    await measure(rows, w, 'crab fused', () => crossEntropy(z, y, { weight: wt }), [z], reps);
    await measure(rows, w, 'composed', () => crossEntropyComposed(z, y, wt), [z], reps);
  }
  // BiGRU
  {
    const [B, T, I, H] = opts.quick ? [16, 100, 512, 512] : [16, 300, 512, 512];
    const gru = new BiGRU(I, H, new Rng(7));
    const x = randT([B, T, I], 8);
    const w = `BiGRU B${B} T${T} in${I} hidden${H} fwd+bwd`;
    const leaves = [x, ...gru.parameters()];
    await measure(rows, w, 'crab fused', () => sumAll(gru.forward(x).output), leaves, 1);
    await measure(rows, w, 'composed', () => sumAll(biGruComposed(gru, x)), leaves, 1);
  }
  // speedups
  const out: Row[] = [];
  const byW = new Map<string, Row[]>();
  for (const r of rows) byW.set(r.workload, [...(byW.get(r.workload) ?? []), r]);
  for (const [, rs] of byW) {
    const fused = rs.find((r) => r.impl === 'crab fused')!;
    const comp = rs.find((r) => r.impl === 'composed')!;
    const gpu = fused.gpuMs && comp.gpuMs ? `; GPU time: fused ${compareTime(fused.gpuMs, comp.gpuMs)}` : '';
    const mem = comp.rate! / Math.max(fused.rate!, 1e-9);
    out.push(fused, { ...comp, note: `wall time: fused ${compareTime(fused.ms, comp.ms)}${gpu}; peak memory: fused ${mem >= 1 ? `${mem.toFixed(1)}× less` : `${(1 / mem).toFixed(1)}× more`}` });
  }
  report('fused', out, { adapter: deviceInfo().name });
}
