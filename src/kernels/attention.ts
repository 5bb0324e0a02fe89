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
import { f32 } from '../tensor/runtime.js';
import { Tensor, fmt, record } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { kernel, chooseVariant, type VariantName } from './registry.js';
import { sumTo } from './reduce.js';
import { matmul, matmulInPlace } from './matmul.js';
import { pad } from './copy.js';
import { softmax } from './softmax.js';
import { scale as scaleOp } from './unary.js';
import { add } from './binary.js';
import { maskedFill } from './where.js';
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
  if (v.ndim !== 4) throw new Error(`attention: expected v of shape (B, H, S, Dh), got ${fmt(v.shape)}`);
  return matmul(attentionWeights(q, k, opts), v);
}

/**
 * The attention weights `softmax(Q·Kᵀ·scale + bias, masked)` (B, H, T, S), with gradients: what
 * a model returns as its attentions, and where attention dropout acts (on these weights, before
 * they multiply V — the fused kernels have no in-kernel mask, so training with attention dropout
 * takes this path).
 */
export function attentionWeights(q: Tensor, k: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4) throw new Error(`attention: expected q, k of shape (B, H, T|S, Dh), got ${fmt(q.shape)}, ${fmt(k.shape)}`);
  const Dh = q.shape[3]!;
  const s0 = scaleOp(matmul(q, k, { transB: true }), opts.scale ?? 1 / Math.sqrt(Dh));
  const s1 = opts.bias ? add(s0, opts.bias) : s0;
  const [B, , , S] = s1.shape as [number, number, number, number];
  const s2 = opts.keyPaddingMask ? maskedFill(s1, opts.keyPaddingMask.reshape([B, 1, 1, S]), -Infinity) : s1;
  return softmax(s2);
}

/**
 * Which implementation runs attention (the registry's `attention` variants): `fused` (one query
 * row per invocation; GPUs), `subgroup` (the same online softmax in 8×32 blocks sharing loads
 * across lanes; CPU adapters; its backward writes P and dS out and finishes with matmuls),
 * `subgroup_streaming` (the same forward; a backward with nothing T×S in memory, for long
 * sequences) or `composed`.
 */
export type AttentionImpl = VariantName<'attention'>;

/**
 * The implementation for a head size and a B·H·T·S score count on this adapter. GPUs get the
 * fused kernel, which never writes the T×S scores. On CPU adapters (lavapipe) the
 * one-row-per-invocation kernel loads the same keys in every lane, which a CPU serializes, so
 * they get the subgroup kernels, which share loads across lanes as the matmul does: measured
 * there (`npm run bench -- fused`, B4 H12 Dh64) they match or beat the composed path from
 * T = S = 64 up, forward and backward. Their backward writes P and dS out while one such matrix
 * stays under 64 MiB (T = S ≈ 580 at B = 4, H = 12): each product then runs once at matmul
 * speed, where streaming recomputes the scores in two kernels and spills.
 */
export function attentionImpl(headDim: number, scores = 0): AttentionImpl {
  return chooseVariant('attention', { headDim, scores });
}

/**
 * Fused attention (`wgsl/attention.wgsl`): online-softmax forward with no T×S score matrix in
 * memory (unless the bias itself needs a gradient), backward recomputing the probabilities
 * from the saved logsumexp; on CPU adapters the same in 8×32 blocks (`attention.subgroup.wgsl`),
 * whose backward writes P and dS out for the engine's matmuls while they fit
 * (the `subgroup` variant; `subgroup_streaming` for long sequences). Runs {@link attentionComposed} instead for head dims the
 * kernels do not take ({@link attentionImpl}). Fully masked rows give zeros.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw new Error(`attention: expected q, k, v of shape (B, H, T|S, Dh), got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  const [B, H, T, Dh] = q.shape as [number, number, number, number];
  const S = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== Dh || fmt(v.shape) !== fmt(k.shape)) {
    throw new Error(`attention: k ${fmt(k.shape)} and v ${fmt(v.shape)} must be [${B}, ${H}, S, ${Dh}] for q ${fmt(q.shape)}`);
  }
  const impl = attentionImpl(Dh, B * H * T * S);
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
  if (impl === 'subgroup' || impl === 'subgroup_streaming') {
    // Uniforms of attention.subgroup.wgsl: the shared 12 with `blocks` in slot 11, then wantBiasGrad and lanes.
    // ds stores P and dS [B·H, Tp, Sp]: T and S rounded up to multiples of 4, zeros beyond.
    const [Tp, Sp] = [Math.ceil(T / 4) * 4, Math.ceil(S / 4) * 4];
    const sub = (blocks: number, biasGrad: boolean): Array<number | { f: number }> => [
      B, H, T, S, Dh, bias ? 1 : 0, mask ? 1 : 0, Tp, biasB, biasH, f32(scale), blocks, 0, biasGrad ? 1 : 0, 8, Sp,
    ];
    // work: matmul-sized products (2·rows·S·Dh FLOPs each) the entry point computes.
    const run = (entry: string, blocks: number, products: number, buffers: Array<GPUBuffer | null>, biasGrad = false): void => dispatch(
      { ...kernel('attention', impl), entry },
      { buffers, params: sub(blocks, biasGrad), constants: { NC: Dh / 32 }, workgroups: grid(B * H * blocks, 1), work: products * 2 * rows * S * Dh },
    );
    // Binding 8 (dO) is read by the shared row loader; the forward binds a stand-in.
    run('main', Math.ceil(T / 8), 2, [q.buffer, k.buffer, v.buffer, bb, mb, o.buffer, lse.buffer, q.buffer]);
    out = record('attention', o, inputs, (g) => {
      const Dr = rowDot(o, g, rows, Dh, params(false));
      const dBiasFull = new Tensor(wantBiasGrad ? [B, H, T, S] : [1], 'f32');
      const shared = [q.buffer, k.buffer, v.buffer, bb, mb, null, lse.buffer, g.buffer, Dr.buffer];
      let dQ: Tensor, dK: Tensor, dV: Tensor;
      if (impl === 'subgroup') {
        // P and scale·dS written once by `ds`, zero-padded to [Tp, Sp]; the three products run
        // on the matmul kernel, reading them in place and summing over Tp or Sp: only the
        // [·, Dh] operands are padded (with zero rows) to match.
        const Z = B * H;
        const P = new Tensor([Z, Tp, Sp], 'f32');
        const dS = new Tensor([Z, Tp, Sp], 'f32');
        run('ds', Math.ceil(T / 8), 2, [...shared, P.buffer, dS.buffer, dBiasFull.buffer], wantBiasGrad);
        const rowsTo = (t: Tensor, n: number, to: number): Tensor => (to > n ? pad(t, [0, 0, 0, 0], [0, 0, to - n, 0]) : t);
        const [gp, kp, qp] = [rowsTo(g, T, Tp), rowsTo(k, S, Sp), rowsTo(q, T, Tp)];
        const shaped = (t: Tensor, shape: readonly number[]): Tensor => {
          const out = t.reshape(shape);
          t.dispose(); // the view keeps the buffer
          return out;
        };
        dV = shaped(matmulInPlace(P, gp, { batch: Z, M: S, N: Dh, K: Tp, transA: true, lda: Sp, aBatch: Tp * Sp, ldb: Dh, bBatch: Tp * Dh }), v.shape);
        dQ = shaped(matmulInPlace(dS, kp, { batch: Z, M: T, N: Dh, K: Sp, lda: Sp, aBatch: Tp * Sp, ldb: Dh, bBatch: Sp * Dh }), q.shape);
        dK = shaped(matmulInPlace(dS, qp, { batch: Z, M: S, N: Dh, K: Tp, transA: true, lda: Sp, aBatch: Tp * Sp, ldb: Dh, bBatch: Tp * Dh }), k.shape);
        for (const [t, orig] of [[gp, g], [kp, k], [qp, q]] as const) if (t !== orig) t.dispose();
        P.dispose();
        dS.dispose();
      } else {
        dQ = new Tensor(q.shape, 'f32');
        run('dq', Math.ceil(T / 8), 3, [...shared, dQ.buffer, null, dBiasFull.buffer], wantBiasGrad);
        dK = new Tensor(k.shape, 'f32');
        dV = new Tensor(v.shape, 'f32');
        run('dkv', Math.ceil(S / 8), 4, [...shared, dK.buffer, dV.buffer]);
      }
      Dr.dispose();
      const dBias = wantBiasGrad ? sumTo(dBiasFull, bias!.shape) : null;
      if (!wantBiasGrad) dBiasFull.dispose();
      return bias ? [dQ, dK, dV, dBias] : [dQ, dK, dV];
    });
  } else {
    launch1d(kernel('attention', 'fused'), rows, [q.buffer, k.buffer, v.buffer, bb, mb, o.buffer, lse.buffer], params(false), undefined, 'main', 4 * rows * S * Dh * 50);
    out = record('attention', o, inputs, (g) => {
      const Dr = rowDot(o, g, rows, Dh, params(false));
      const dQ = new Tensor(q.shape, 'f32');
      // Without a bias gradient the dBias binding gets a 1-element placeholder (two writable
      // bindings may not share a buffer).
      const dBiasFull = new Tensor(wantBiasGrad ? [B, H, T, S] : [1], 'f32');
      launch1d(kernel('attention', 'fused'), rows, [q.buffer, k.buffer, v.buffer, bb, mb, null, lse.buffer, g.buffer, Dr.buffer, dQ.buffer, dBiasFull.buffer], params(wantBiasGrad), undefined, 'dq', 6 * rows * S * Dh * 50);
      const dK = new Tensor(k.shape, 'f32');
      const dV = new Tensor(v.shape, 'f32');
      launch1d(kernel('attention', 'fused'), B * H * S, [q.buffer, k.buffer, v.buffer, bb, mb, null, lse.buffer, g.buffer, Dr.buffer, dK.buffer, dV.buffer], params(false), undefined, 'dkv', 8 * rows * S * Dh * 50);
      Dr.dispose();
      const dBias = wantBiasGrad ? sumTo(dBiasFull, bias!.shape) : null;
      if (!wantBiasGrad) dBiasFull.dispose();
      return bias ? [dQ, dK, dV, dBias] : [dQ, dK, dV];
    });
  }
  if (!out.requiresGrad) lse.dispose();
  return out;
}

/** Dr_i = Σ_d dO_id·O_id per query row (both backward paths). */
function rowDot(o: Tensor, g: Tensor, rows: number, Dh: number, params: Array<number | { f: number }>): Tensor {
  const Dr = new Tensor(o.shape.slice(0, 3), 'f32');
  launch1d(kernel('attention', 'fused'), rows, [null, null, null, null, null, o.buffer, null, g.buffer, Dr.buffer], params, undefined, 'row_dot', rows * Dh * 100);
  return Dr;
}

