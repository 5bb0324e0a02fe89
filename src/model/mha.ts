/**
 * `nn.MultiheadAttention(E, heads, dropout, batch_first=True)` with PyTorch's parameter names
 * (`in_proj_weight` [3E, E] = [W_q; W_k; W_v], `in_proj_bias`, `out_proj`), on the fused
 * attention kernel when the head size allows it and attention-weight dropout is off.
 * @module
 */
import { Tensor, Rng } from '../tensor/tensor.js';
import { linear, narrow, permute, attention, attentionWeights, matmul, mean, dropout } from '../kernels/index.js';
import { Module, Linear, param, uniformInit } from './module.js';

/** Multi-head attention over batch-first sequences. */
export class MultiheadAttention extends Module {
  in_proj_weight: Tensor;
  in_proj_bias: Tensor;
  out_proj: Linear;

  constructor(readonly embedDim: number, readonly numHeads: number, readonly dropoutP: number, private readonly _rng: Rng) {
    super();
    const E = embedDim;
    if (E % numHeads) throw new Error(`MultiheadAttention: embed dim ${E} is not divisible by ${numHeads} heads`);
    // PyTorch: xavier_uniform_ on in_proj_weight, zero biases, out_proj bias zero.
    const bound = Math.sqrt(6 / (E + 3 * E));
    this.in_proj_weight = param(uniformInit(3 * E * E, bound, _rng), [3 * E, E]);
    this.in_proj_bias = param(new Float32Array(3 * E), [3 * E]);
    this.out_proj = new Linear(E, E, _rng);
    this.out_proj.bias = param(new Float32Array(E), [E]);
  }

  /**
   * query [B, T, E], key = value [B, S, E]; `keyPaddingMask` [B, S] as 0/1 floats (1 = ignore).
   * Returns [B, T, E]; with `needWeights` also the attention weights averaged over heads
   * [B, T, S], after dropout, as PyTorch returns them (`need_weights=True`, the default).
   */
  forward(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask?: Tensor | null): Tensor;
  forward(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor | null | undefined, needWeights: true): { out: Tensor; weights: Tensor };
  forward(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask?: Tensor | null, needWeights = false): Tensor | { out: Tensor; weights: Tensor } {
    const E = this.embedDim;
    const h = this.numHeads;
    const [B, T] = query.shape as [number, number];
    const S = key.shape[1]!;
    const w = (i: number): Tensor => narrow(this.in_proj_weight, 0, i * E, E);
    const b = (i: number): Tensor => narrow(this.in_proj_bias, 0, i * E, E);
    const heads = (x: Tensor, L: number): Tensor => permute(x.reshape([B, L, h, E / h]), [0, 2, 1, 3]);
    const q = heads(linear(query, w(0), b(0)), T);
    const k = heads(linear(key, w(1), b(1)), S);
    const v = heads(linear(value, w(2), b(2)), S);
    let a: Tensor;
    let weights: Tensor | undefined;
    if (needWeights || (this.training && this.dropoutP > 0)) {
      // Dropout acts on the attention weights, so they must exist: the composed path.
      let p = attentionWeights(q, k, { keyPaddingMask });
      if (this.training && this.dropoutP > 0) p = dropout(p, this.dropoutP, this._rng.nextU32());
      a = matmul(p, v);
      if (needWeights) weights = h === 1 ? p.reshape([B, T, S]) : mean(p, 1);
    } else {
      a = attention(q, k, v, { keyPaddingMask });
    }
    const out = this.out_proj.forward(permute(a, [0, 2, 1, 3]).reshape([B, T, E]));
    return needWeights ? { out, weights: weights! } : out;
  }
}
