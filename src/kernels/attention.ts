/**
 * attention — `softmax(Q·Kᵀ·scale + bias, masked) · V` over (B, H, T, Dh) × (B, H, S, Dh).
 *
 * {@link attentionComposed} builds it from basic ops (matmul with a transposed operand, softmax
 * with −∞ masking, matmul); its gradients come from those ops' rules. It materializes the
 * T×S score matrix; it is the reference the fused kernel is checked against.
 * @module
 */
import { Tensor, fmt } from '../tensor/tensor.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';
import { scale as scaleOp } from './unary.js';
import { add } from './binary.js';
import { maskedFill } from './where.js';

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
