/**
 * attention — `softmax(Q·Kᵀ·scale + bias, masked) · V` over (B, H, T, Dh) × (B, H, S, Dh).
 *
 * {@link attention} is the fused kernel (`wgsl/attention.wgsl`, and `wgsl/attention.subgroup.wgsl`
 * on CPU adapters); {@link attentionComposed} builds
 * the same thing from basic ops (matmul with a transposed operand, softmax with −∞ masking,
 * matmul), materializing the T×S scores — the reference the fused kernel is checked against.
 * PyTorch: `softmax((q @ k.mT) * scale + bias).masked_fill(...) @ v`.
 * @module
 */
import attentionSource from '../../wgsl/attention.wgsl';
import attentionSubgroupSource from '../../wgsl/attention.subgroup.wgsl';
import rows8Source from '../../wgsl/lib/rows8.wgsl';
import { f32 } from '../tensor/runtime.js';
import { deviceInfo } from '../tensor/device.js';
import { Tensor, fmt, record } from '../tensor/tensor.js';
import { expectDType, launch1d, hasSubgroupsOf8 } from './util.js';
import { sumTo } from './reduce.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';
import { scale as scaleOp } from './unary.js';
import { add } from './binary.js';
import { maskedFill } from './where.js';
import { permute, pad } from './copy.js';
import { noGrad, isGradEnabled } from '../tensor/tensor.js';
import { dispatch, grid } from '../tensor/runtime.js';

/** Options shared by the attention implementations. */
export interface AttentionOptions {
  /** Score scale, default 1/√Dh. */
  scale?: number;
  /** Additive bias broadcastable to (B, H, T, S): e.g. (1, H, T, S) or (B, H, T, S). */
  bias?: Tensor | null;
  /** Key padding mask (B, S) as 0/1 floats, 1 = padded key (ignored). */
  keyPaddingMask?: Tensor | null;
}

/** Attention composed from basic ops (materializes the scores). */
export function attentionComposed(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw new Error(`attention: expected q, k, v of shape (B, H, T|S, Dh), got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  const Dh = q.shape[3]!;
  const s0 = scaleOp(matmul(q, k, { transB: true }), opts.scale ?? 1 / Math.sqrt(Dh));
  const s1 = opts.bias ? add(s0, opts.bias) : s0;
  const [B, , , S] = s1.shape as [number, number, number, number];
  const s2 = opts.keyPaddingMask ? maskedFill(s1, opts.keyPaddingMask.reshape([B, 1, 1, S]), -Infinity) : s1;
  return matmul(softmax(s2), v);
}

/** The fused attention kernel. */
export const attentionKernel = { stem: 'attention', source: attentionSource };

/** Forward and backward in blocks of 8 rows × 32 columns, loads shared through the subgroup (CPU adapters). */
export const attentionSubgroupKernel = { stem: 'attention.subgroup', source: rows8Source + attentionSubgroupSource };

/**
 * Which implementation runs attention: `fused` (one query row per invocation), `subgroup` (the
 * same online softmax in 8×32 blocks sharing loads across lanes), or `composed`.
 */
export type AttentionImpl = 'fused' | 'subgroup' | 'composed';
let forcedImpl: AttentionImpl | null = null;
/** Forces an implementation (tests, benchmarks); `null` restores the automatic choice. */
export function forceAttentionImpl(v: AttentionImpl | null): void {
  forcedImpl = v;
}

/**
 * The implementation for a problem on this adapter (`needsGrad`: a backward will follow).
 * GPUs get the fused kernel, which never writes the T×S scores. On CPU adapters (lavapipe) the
 * one-row-per-invocation kernel loads the same keys in every lane, which a CPU serializes, so
 * they get the subgroup kernels, which share loads across lanes as the matmul does. Measured
 * there (`npm run bench -- fused`, B4 H12 Dh64): the subgroup forward beats the composed path at
 * every size, but forward+backward only on long sequences (2.5× at T = S = 750, 0.85× at 256),
 * so training on short sequences stays composed.
 */
export function attentionImpl(headDim: number, needsGrad = false, T = 0, S = 0): AttentionImpl {
  if (!fusedAttentionSupports(headDim)) return 'composed';
  const sub = subgroupAttentionSupports(headDim);
  if (forcedImpl) return forcedImpl === 'subgroup' && !sub ? 'fused' : forcedImpl;
  if (!deviceInfo().isCpu) return 'fused';
  if (!sub) return 'composed';
  return needsGrad && T * S < 400 * 400 ? 'composed' : 'subgroup';
}

/** True when the subgroup kernels apply: subgroups on the adapter and Dh a multiple of 32. */
export function subgroupAttentionSupports(headDim: number): boolean {
  return hasSubgroupsOf8() && headDim % 32 === 0 && headDim <= 128;
}

/** True when the fused kernel handles these shapes (Dh a multiple of 4, at most 128). */
export function fusedAttentionSupports(headDim: number): boolean {
  return headDim % 4 === 0 && headDim <= 128;
}

/**
 * Fused attention (`wgsl/attention.wgsl`): online-softmax forward with no T×S score matrix in
 * memory (unless the bias itself needs a gradient), backward recomputing the probabilities
 * from the saved logsumexp; on CPU adapters the same in 8×32 blocks (`attention.subgroup.wgsl`).
 * Runs {@link attentionComposed} instead where {@link attentionImpl} says so (unsupported head
 * dims; on CPU adapters, training on short sequences). Fully masked rows give zeros.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw new Error(`attention: expected q, k, v of shape (B, H, T|S, Dh), got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  const [B, H, T, Dh] = q.shape as [number, number, number, number];
  const S = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== Dh || fmt(v.shape) !== fmt(k.shape)) {
    throw new Error(`attention: k ${fmt(k.shape)} and v ${fmt(v.shape)} must be [${B}, ${H}, S, ${Dh}] for q ${fmt(q.shape)}`);
  }
  const impl = attentionImpl(Dh, isGradEnabled() && [q, k, v, opts.bias].some((t) => t?.requiresGrad), T, S);
  if (impl === 'composed') return attentionComposed(q, k, v, opts);
  expectDType('attention', 'f32', q, k, v);
  const bias = opts.bias ?? null;
  let biasB = 0;
  let biasH = 0;
  if (bias) {
    const bs = [...bias.shape];
    while (bs.length < 4) bs.unshift(1);
    const [bb, bh, bt, bsS] = bs as [number, number, number, number];
    if (bt !== T || bsS !== S || (bb !== 1 && bb !== B) || (bh !== 1 && bh !== H)) {
      throw new Error(`attention: bias ${fmt(bias.shape)} does not broadcast to [${B}, ${H}, ${T}, ${S}]`);
    }
    biasH = bh === 1 ? 0 : T * S;
    biasB = bb === 1 ? 0 : bh * T * S;
  }
  const mask = opts.keyPaddingMask ?? null;
  if (mask && (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== S)) throw new Error(`attention: key padding mask ${fmt(mask.shape)} must be [${B}, ${S}]`);
  const o = new Tensor(q.shape, 'f32');
  const lse = new Tensor([B, H, T], 'f32');
  const wantBiasGrad = !!bias?.requiresGrad;
  const params = (biasGrad: boolean): Array<number | { f: number }> => [
    B, H, T, S, Dh, bias ? 1 : 0, mask ? 1 : 0, biasGrad ? 1 : 0, biasB, biasH, f32(opts.scale ?? 1 / Math.sqrt(Dh)), 0,
  ];
  const dummy = q.buffer; // unused bindings still need a buffer; read-only aliasing is allowed
  const bb = bias ? bias.buffer : dummy;
  const mb = mask ? mask.buffer : dummy;
  const rows = B * H * T;
  const inputs = bias ? [q, k, v, bias] : [q, k, v];
  const scale = opts.scale ?? 1 / Math.sqrt(Dh);
  let out: Tensor;
  let kT: Tensor | null = null; // the subgroup forward's Kᵀ, saved for dq like lse (freed with its scope)
  if (impl === 'subgroup') {
    // Uniforms of attention.subgroup.wgsl: the shared 12 plus Sp, blocks, Tp, wantBiasGrad.
    const Sp = Math.ceil(S / 32) * 32;
    const Tp = Math.ceil(T / 32) * 32;
    const sub = (blocks: number, biasGrad: boolean): Array<number | { f: number }> => [
      B, H, T, S, Dh, bias ? 1 : 0, mask ? 1 : 0, Sp, biasB, biasH, f32(scale), blocks, Tp, biasGrad ? 1 : 0, 8, 0,
    ];
    const run = (entry: string, blocks: number, buffers: Array<GPUBuffer | null>, biasGrad = false): void => dispatch(
      { ...attentionSubgroupKernel, entry },
      { buffers, params: sub(blocks, biasGrad), constants: { NC: Dh / 32 }, workgroups: grid(B * H * blocks, 1), work: 6 * rows * S * Dh }, // ≈ 10 GFLOP/s on lavapipe
    );
    const kTs = (kT = transposedPadded(k, Sp));
    // Bindings 8 (k) and 9 (dO) are declared by the shared row loader; the forward reads neither.
    run('main', Math.ceil(T / 8), [q.buffer, kTs.buffer, v.buffer, bb, mb, o.buffer, lse.buffer, k.buffer, q.buffer]);
    out = record('attention', o, inputs, (g) => {
      const Dr = rowDot(o, g, rows, Dh, params(false));
      const dQ = new Tensor(q.shape, 'f32');
      const dBiasFull = new Tensor(wantBiasGrad ? [B, H, T, S] : [1], 'f32');
      const vT = transposedPadded(v, Sp);
      run('dq', Math.ceil(T / 8), [q.buffer, kTs.buffer, v.buffer, bb, mb, null, lse.buffer, k.buffer, g.buffer, vT.buffer, null, null, Dr.buffer, dQ.buffer, dBiasFull.buffer], wantBiasGrad);
      vT.dispose();
      const [qT, gT] = [transposedPadded(q, Tp), transposedPadded(g, Tp)];
      const dK = new Tensor(k.shape, 'f32');
      const dV = new Tensor(v.shape, 'f32');
      run('dkv', Math.ceil(S / 8), [q.buffer, null, v.buffer, bb, mb, null, lse.buffer, k.buffer, g.buffer, null, qT.buffer, gT.buffer, Dr.buffer, dK.buffer, dV.buffer]);
      qT.dispose();
      gT.dispose();
      Dr.dispose();
      const dBias = wantBiasGrad ? sumTo(dBiasFull, bias!.shape) : null;
      if (!wantBiasGrad) dBiasFull.dispose();
      return bias ? [dQ, dK, dV, dBias] : [dQ, dK, dV];
    });
  } else {
    launch1d(attentionKernel, rows, [q.buffer, k.buffer, v.buffer, bb, mb, o.buffer, lse.buffer], params(false), undefined, 'main', 4 * rows * S * Dh * 50);
    out = record('attention', o, inputs, (g) => {
      const Dr = rowDot(o, g, rows, Dh, params(false));
      const dQ = new Tensor(q.shape, 'f32');
      // Without a bias gradient the dBias binding gets a 1-element placeholder (two writable
      // bindings may not share a buffer).
      const dBiasFull = new Tensor(wantBiasGrad ? [B, H, T, S] : [1], 'f32');
      launch1d(attentionKernel, rows, [q.buffer, k.buffer, v.buffer, bb, mb, null, lse.buffer, g.buffer, Dr.buffer, dQ.buffer, dBiasFull.buffer], params(wantBiasGrad), undefined, 'dq', 6 * rows * S * Dh * 50);
      const dK = new Tensor(k.shape, 'f32');
      const dV = new Tensor(v.shape, 'f32');
      launch1d(attentionKernel, B * H * S, [q.buffer, k.buffer, v.buffer, bb, mb, null, lse.buffer, g.buffer, Dr.buffer, dK.buffer, dV.buffer], params(false), undefined, 'dkv', 8 * rows * S * Dh * 50);
      Dr.dispose();
      const dBias = wantBiasGrad ? sumTo(dBiasFull, bias!.shape) : null;
      if (!wantBiasGrad) dBiasFull.dispose();
      return bias ? [dQ, dK, dV, dBias] : [dQ, dK, dV];
    });
  }
  if (!out.requiresGrad) {
    lse.dispose();
    kT?.dispose();
  }
  return out;
}

/** Dr_i = Σ_d dO_id·O_id per query row (both backward paths). */
function rowDot(o: Tensor, g: Tensor, rows: number, Dh: number, params: Array<number | { f: number }>): Tensor {
  const Dr = new Tensor(o.shape.slice(0, 3), 'f32');
  launch1d(attentionKernel, rows, [null, null, null, null, null, o.buffer, null, g.buffer, Dr.buffer], params, undefined, 'row_dot', rows * Dh * 100);
  return Dr;
}

/** x [B, H, L, Dh] → xᵀ [B, H, Dh, Lp], zero-padded to Lp columns (no gradient recorded). */
function transposedPadded(x: Tensor, Lp: number): Tensor {
  return noGrad(() => {
    const t = permute(x, [0, 1, 3, 2]);
    const L = x.shape[2]!;
    if (Lp === L) return t;
    const padded = pad(t, [0, 0, 0, 0], [0, 0, 0, Lp - L]);
    t.dispose();
    return padded;
  });
}
