// `npm run bench -- kernels`: matmul GFLOP/s, softmax / layer_norm / elementwise GB/s, the cost of
// one tiny dispatch, one transformer encoder layer forward and an MLP forward+backward — ours
// and, in the same process on the same adapter, TF.js WebGPU and jax-js WebGPU.
import { fromArray, tidy, Tensor, keep, noGrad, Rng } from '../../src/tensor/tensor.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { sync } from '../../src/tensor/runtime.js';
import * as ops from '../../src/kernels/index.js';
import { Linear, LayerNorm } from '../../src/model/module.js';
import { attentionComposed } from '../../src/kernels/attention.js';
import { time, report, type Row } from '../util.js';
import { loadTf, loadJax, type TF, type Jax } from '../peers.js';
import { backward } from '../../src/kernels/autograd.js';

const MATMULS: Array<[number, number, number]> = [[256, 256, 256], [1024, 1024, 1024], [2048, 768, 768], [2048, 3072, 768]];

function randF(n: number, seed: number, std = 1): Float32Array {
  const g = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = std * g.normal();
  return a;
}

/** Ours: run `f` (which returns a tensor), wait for the GPU, free. */
async function ours(f: () => Tensor): Promise<void> {
  const y = f();
  await sync();
  y.dispose();
}

export async function benchKernels(opts: { quick?: boolean; peers?: boolean } = {}): Promise<void> {
  const rows: Row[] = [];
  const reps = opts.quick ? 1 : 3;
  const tfL = opts.peers === false ? { error: 'peers off' } : await loadTf();
  const jaxL = opts.peers === false ? { error: 'peers off' } : await loadJax();
  const tf: TF | null = 'tf' in tfL ? tfL.tf : null;
  const jax: Jax | null = 'jax' in jaxL ? jaxL.jax : null;
  if (!tf) console.error(`TF.js WebGPU unavailable: ${(tfL as { error: string }).error}`);
  if (!jax) console.error(`jax-js WebGPU unavailable: ${(jaxL as { error: string }).error}`);
  const np = jax?.numpy;

  // --- matmul ---------------------------------------------------------------------------------
  for (const [M, N, K] of MATMULS) {
    const w = `matmul ${M}×${N}×${K}`;
    const flops = 2 * M * N * K;
    const A = randF(M * K, 1);
    const B = randF(K * N, 2);
    const a = keep(fromArray(A, [M, K]));
    const b = keep(fromArray(B, [K, N]));
    for (const v of ['subgroup', 'tiled', 'naive'] as const) {
      ops.forceVariant('matmul', v);
      if (ops.matmulVariant(M, N, K, false, false) !== v) continue;
      const ms = await time(() => ours(() => ops.matmul(a, b)), reps);
      rows.push({ workload: w, impl: `crab ${v}`, ms, rate: flops / ms / 1e6, unit: 'GFLOP/s' });
    }
    ops.forceVariant('matmul', null);
    a.dispose();
    b.dispose();
    if (tf) {
      const ta = tf.tensor2d(A, [M, K]);
      const tb = tf.tensor2d(B, [K, N]);
      const ms = await time(async () => {
        const y = tf.matMul(ta, tb);
        await y.data();
        y.dispose();
      }, reps);
      rows.push({ workload: w, impl: 'tfjs-webgpu', ms, rate: flops / ms / 1e6, unit: 'GFLOP/s' });
      ta.dispose();
      tb.dispose();
    }
    if (np) {
      const ja = np.array(A).reshape([M, K]);
      const jb = np.array(B).reshape([K, N]);
      const ms = await time(async () => {
        const y = np.matmul(ja.ref, jb.ref);
        await y.data();
      }, reps);
      rows.push({ workload: w, impl: 'jax-js-webgpu', ms, rate: flops / ms / 1e6, unit: 'GFLOP/s' });
      ja.dispose();
      jb.dispose();
    }
  }

  // --- bandwidth-bound kernels -----------------------------------------------------------------
  {
    const R = 4096;
    const L = 1024;
    const X = randF(R * L, 3);
    const x = keep(fromArray(X, [R, L]));
    const y2 = keep(fromArray(randF(R * L, 4), [R, L]));
    const g = keep(fromArray(new Float32Array(L).fill(1), [L]));
    const bb = keep(fromArray(new Float32Array(L), [L]));
    const bytes2 = 2 * 4 * R * L;
    const bytes3 = 3 * 4 * R * L;
    const push = (w: string, impl: string, ms: number, bytes: number): void => {
      rows.push({ workload: w, impl, ms, rate: bytes / ms / 1e6, unit: 'GB/s' });
    };
    push(`softmax ${R}×${L}`, 'crab', await time(() => ours(() => ops.softmax(x)), reps), bytes2);
    push(`layer_norm ${R}×${L}`, 'crab', await time(() => ours(() => ops.layerNorm(x, g, bb)), reps), bytes2);
    push(`add ${R}×${L}`, 'crab', await time(() => ours(() => ops.add(x, y2)), reps), bytes3);
    if (tf) {
      const tx = tf.tensor2d(X, [R, L]);
      const ty = tf.tensor2d(randF(R * L, 4), [R, L]);
      const run = async (f: () => TF): Promise<number> => time(async () => {
        const y = f();
        await y.data();
        y.dispose();
      }, reps);
      push(`softmax ${R}×${L}`, 'tfjs-webgpu', await run(() => tf.softmax(tx)), bytes2);
      push(`layer_norm ${R}×${L}`, 'tfjs-webgpu', await run(() => tf.tidy(() => {
        const m = tf.moments(tx, -1, true);
        return tf.mul(tf.sub(tx, m.mean), tf.rsqrt(tf.add(m.variance, 1e-5)));
      })), bytes2);
      push(`add ${R}×${L}`, 'tfjs-webgpu', await run(() => tf.add(tx, ty)), bytes3);
      tx.dispose();
      ty.dispose();
    }
    if (np) {
      const jx = np.array(X).reshape([R, L]);
      const jy = np.array(randF(R * L, 4)).reshape([R, L]);
      const run = async (f: () => Jax): Promise<number> => time(async () => {
        const y = f();
        await y.data();
      }, reps);
      push(`softmax ${R}×${L}`, 'jax-js-webgpu', await run(() => jax.nn.softmax(jx.ref, -1)), bytes2);
      push(`layer_norm ${R}×${L}`, 'jax-js-webgpu', await run(() => jax.nn.standardize(jx.ref, -1, { epsilon: 1e-5 })), bytes2);
      push(`add ${R}×${L}`, 'jax-js-webgpu', await run(() => np.add(jx.ref, jy.ref)), bytes3);
      jx.dispose();
      jy.dispose();
    }
    for (const t of [x, y2, g, bb]) t.dispose();
  }

  // --- one tiny dispatch ------------------------------------------------------------------------
  {
    const a = keep(fromArray([1]));
    const n = 2000;
    const ms = await time(async () => {
      tidy(() => {
        for (let i = 0; i < n; i++) ops.add(a, a);
      });
      await sync();
    }, reps);
    rows.push({ workload: 'tiny dispatch (1 element, batched)', impl: 'crab', ms: ms / n, rate: (ms / n) * 1000, unit: 'µs' });
    a.dispose();
  }

  // --- transformer encoder layer forward ------------------------------------------------------
  const [Bt, T, D, H, F] = [4, 256, 768, 12, 3072];
  {
    const w = `encoder layer fwd ${D}/${H}h/${F}, B${Bt} T${T}`;
    const rng = new Rng(5);
    const q = new Linear(D, D, rng), k = new Linear(D, D, rng), v = new Linear(D, D, rng), o = new Linear(D, D, rng);
    const ln1 = new LayerNorm(D), ln2 = new LayerNorm(D), f1 = new Linear(D, F, rng), f2 = new Linear(F, D, rng);
    const X = randF(Bt * T * D, 6);
    const x = keep(fromArray(X, [Bt, T, D]));
    const heads = (t: Tensor): Tensor => ops.permute(t.reshape([Bt, T, H, D / H]), [0, 2, 1, 3]);
    const layer = (): Tensor => noGrad(() => tidy(() => {
      const a = attentionComposed(heads(q.forward(x)), heads(k.forward(x)), heads(v.forward(x)));
      // Residuals and the GELU go into the projections' matmul epilogues, as in the models.
      const h = ln1.forward(o.forward(ops.permute(a, [0, 2, 1, 3]).reshape([Bt, T, D]), { residual: x }));
      return ln2.forward(f2.forward(f1.forward(h, { activation: 'gelu' }), { residual: h }));
    }));
    rows.push({ workload: w, impl: 'crab (composed attention, fused epilogues)', ms: await time(() => ours(layer), reps) });
    // The same layer as the models run it: attention by the registry's kernel (on lavapipe the
    // subgroup one, no T×S matrix in memory) instead of matmul, softmax, matmul.
    const layerFused = (): Tensor => noGrad(() => tidy(() => {
      const a = ops.attention(heads(q.forward(x)), heads(k.forward(x)), heads(v.forward(x)));
      const h = ln1.forward(o.forward(ops.permute(a, [0, 2, 1, 3]).reshape([Bt, T, D]), { residual: x }));
      return ln2.forward(f2.forward(f1.forward(h, { activation: 'gelu' }), { residual: h }));
    }));
    rows.push({ workload: w, impl: `crab (${ops.attentionImpl(D / H, Bt * H * T * T)} attention, fused epilogues)`, ms: await time(() => ours(layerFused), reps) });
    x.dispose();
    const Wd = (): Float32Array => randF(D * D, 7, 0.02);
    if (tf) {
      const [tq, tk, tv, to] = [Wd(), Wd(), Wd(), Wd()].map((a) => tf.tensor2d(a, [D, D]));
      const t1 = tf.tensor2d(randF(D * F, 8, 0.02), [D, F]);
      const t2 = tf.tensor2d(randF(F * D, 9, 0.02), [F, D]);
      const tx = tf.tensor2d(X, [Bt * T, D]);
      const ln = (t: TF): TF => {
        const m = tf.moments(t, -1, true);
        return tf.mul(tf.sub(t, m.mean), tf.rsqrt(tf.add(m.variance, 1e-5)));
      };
      const hd = (t: TF): TF => tf.transpose(tf.reshape(t, [Bt, T, H, D / H]), [0, 2, 1, 3]);
      const ms = await time(async () => {
        const y = tf.tidy(() => {
          const s = tf.mul(tf.matMul(hd(tf.matMul(tx, tq)), hd(tf.matMul(tx, tk)), false, true), 1 / Math.sqrt(D / H));
          const a = tf.matMul(tf.softmax(s), hd(tf.matMul(tx, tv)));
          const h = ln(tf.add(tx, tf.matMul(tf.reshape(tf.transpose(a, [0, 2, 1, 3]), [Bt * T, D]), to)));
          const f = tf.matMul(tf.mul(tf.matMul(h, t1), tf.sigmoid(tf.mul(tf.matMul(h, t1), 1.702))), t2);
          return ln(tf.add(h, f));
        });
        await y.data();
        y.dispose();
      }, reps);
      rows.push({ workload: w, impl: 'tfjs-webgpu', ms });
      for (const t of [tq, tk, tv, to, t1, t2, tx]) t.dispose();
    }
    if (np) {
      const [jq, jk, jv, jo] = [Wd(), Wd(), Wd(), Wd()].map((a) => np.array(a).reshape([D, D]));
      const j1 = np.array(randF(D * F, 8, 0.02)).reshape([D, F]);
      const j2 = np.array(randF(F * D, 9, 0.02)).reshape([F, D]);
      const jx = np.array(X).reshape([Bt * T, D]);
      const ms = await time(async () => {
        const sp = (t: Jax): Jax => t.reshape([Bt, T, H, D / H]);
        const a = jax.nn.dotProductAttention(sp(np.matmul(jx.ref, jq.ref)), sp(np.matmul(jx.ref, jk.ref)), sp(np.matmul(jx.ref, jv.ref)));
        const h = jax.nn.standardize(np.add(jx.ref, np.matmul(a.reshape([Bt * T, D]), jo.ref)), -1, { epsilon: 1e-5 });
        const f = np.matmul(jax.nn.gelu(np.matmul(h.ref, j1.ref)), j2.ref);
        const y = jax.nn.standardize(np.add(h, f), -1, { epsilon: 1e-5 });
        await y.data();
      }, reps);
      rows.push({ workload: w, impl: 'jax-js-webgpu', ms });
      for (const t of [jq, jk, jv, jo, j1, j2, jx]) t.dispose();
    }
  }

  // --- MLP forward + backward -------------------------------------------------------------------
  {
    const [Nb, Din, Dh] = [1024, 768, 3072];
    const w = `MLP ${Din}→${Dh}→${Din} fwd+bwd, batch ${Nb}`;
    const rng = new Rng(10);
    const l1 = new Linear(Din, Dh, rng), l2 = new Linear(Dh, Din, rng);
    const X = randF(Nb * Din, 11);
    const x = keep(fromArray(X, [Nb, Din]));
    const step = async (): Promise<void> => {
      tidy(() => {
        const y = l2.forward(ops.gelu(l1.forward(x)));
        backward(ops.mean(ops.square(y)));
      });
      await sync();
      for (const p of [...l1.parameters(), ...l2.parameters()]) {
        p.grad?.dispose();
        p.grad = null;
      }
    };
    rows.push({ workload: w, impl: 'crab', ms: await time(step, reps) });
    x.dispose();
    if (tf) {
      const v1 = tf.variable(tf.tensor2d(randF(Din * Dh, 12, 0.02), [Din, Dh]));
      const v2 = tf.variable(tf.tensor2d(randF(Dh * Din, 13, 0.02), [Dh, Din]));
      const tx = tf.tensor2d(X, [Nb, Din]);
      const ms = await time(async () => {
        const { value, grads } = tf.variableGrads(() => {
          const h = tf.matMul(tx, v1);
          const g = tf.mul(h, tf.sigmoid(tf.mul(h, 1.702)));
          return tf.mean(tf.square(tf.matMul(g, v2)));
        });
        await grads[v1.name].data();
        value.dispose();
        for (const g of Object.values(grads)) (g as TF).dispose();
      }, reps);
      rows.push({ workload: w, impl: 'tfjs-webgpu', ms });
      for (const t of [v1, v2, tx]) t.dispose();
    }
    if (np) {
      const p = { w1: np.array(randF(Din * Dh, 12, 0.02)).reshape([Din, Dh]), w2: np.array(randF(Dh * Din, 13, 0.02)).reshape([Dh, Din]) };
      const jx = np.array(X).reshape([Nb, Din]);
      const lossFn = (q: { w1: Jax; w2: Jax }): Jax => np.mean(np.square(np.matmul(jax.nn.gelu(np.matmul(jx.ref, q.w1)), q.w2)));
      const g = jax.grad(lossFn);
      const ms = await time(async () => {
        const gr = g({ w1: p.w1.ref, w2: p.w2.ref });
        await gr.w1.data();
        gr.w2.dispose();
      }, reps);
      rows.push({ workload: w, impl: 'jax-js-webgpu', ms });
    }
  }

  const info = deviceInfo();
  report('kernels', rows, { adapter: info.name, isCpu: info.isCpu, avx2PeakGflops: info.isCpu ? 220 : undefined });
  const best = rows.filter((r) => r.workload.startsWith('matmul 1024') && r.impl.startsWith('crab')).sort((a, b) => a.ms - b.ms)[0];
  if (best && info.isCpu) console.error(`matmul 1024³: ${best.rate!.toFixed(1)} GFLOP/s = ${((100 * best.rate!) / 220).toFixed(1)}% of the 2-core AVX2 FMA peak (≈220 GFLOP/s)`);
}
