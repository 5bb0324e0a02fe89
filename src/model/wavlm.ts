/**
 * WavLM as Hugging Face's `WavLMModel` computes it, for both families:
 * base (`feat_extract_norm: "group"`, post-LN layers) and large (`"layer"`, stable pre-LN with a
 * final LayerNorm). Class and property names follow `modeling_wavlm.py`, so parameter paths are
 * checkpoint keys.
 *
 *   waveform → FeatureEncoder (7 convs, GELU) → FeatureProjection (LayerNorm → Linear)
 *   → zero padded frames → + PositionalConvEmbedding (weight-normed grouped conv, GELU)
 *   → layers with the gated relative position bias (buckets embedded in layer 0, reused by all)
 * @module
 */
import { Tensor, Rng, fromArray, keep } from '../tensor/tensor.js';
import { deviceInfo, gpuDevice } from '../tensor/device.js';
import {
  add, mul, gelu, sigmoid, sum, sqrt, square, div, conv1d, conv1dFrames, groupNormChannelsLast, layerNorm, permute, narrow, transpose, attention,
  embedding, affine, where, concat, attentionWeights, matmul, mean, im2col,
} from '../kernels/index.js';
import { Module, Linear, LayerNorm, Dropout, param, uniformInit, givenMask, splitHeads } from './module.js';
import { profileScope } from '../tensor/runtime.js';
import { z } from 'zod';
import type { ModelFiles } from './model_files.js';
import { readConfig, count, rate, activation, headsDivideHidden } from './config.js';

/** `config.json` of a WavLM checkpoint (the fields this model reads). */
export interface WavLMConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  layer_norm_eps: number;
  feat_extract_norm: 'group' | 'layer';
  conv_dim: number[];
  conv_kernel: number[];
  conv_stride: number[];
  conv_bias: boolean;
  num_conv_pos_embeddings: number;
  num_conv_pos_embedding_groups: number;
  num_buckets: number;
  max_bucket_distance: number;
  do_stable_layer_norm: boolean;
  hidden_dropout: number;
  attention_dropout: number;
  /** Dropout after the feed-forward's activation. */
  activation_dropout: number;
  feat_proj_dropout: number;
  layerdrop: number;
  apply_spec_augment: boolean;
  mask_time_prob: number;
  mask_time_length: number;
  mask_time_min_masks: number;
  /** SpecAugment over feature channels: spans of the hidden size set to 0 per item (training). */
  mask_feature_prob: number;
  mask_feature_length: number;
  mask_feature_min_masks: number;
}

/** wavlm-base-plus values, used where config.json is silent. */
export const WAVLM_DEFAULTS: WavLMConfig = {
  hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, hidden_act: 'gelu', layer_norm_eps: 1e-5,
  feat_extract_norm: 'group', conv_dim: [512, 512, 512, 512, 512, 512, 512], conv_kernel: [10, 3, 3, 3, 3, 2, 2], conv_stride: [5, 2, 2, 2, 2, 2, 2],
  conv_bias: false, num_conv_pos_embeddings: 128, num_conv_pos_embedding_groups: 16, num_buckets: 320, max_bucket_distance: 800,
  do_stable_layer_norm: false, hidden_dropout: 0.1, attention_dropout: 0.1, activation_dropout: 0.0, feat_proj_dropout: 0.1, layerdrop: 0.1,
  apply_spec_augment: true, mask_time_prob: 0.05, mask_time_length: 10, mask_time_min_masks: 2,
  mask_feature_prob: 0.0, mask_feature_length: 10, mask_feature_min_masks: 0,
};

/** The fields of a WavLM config.json this project reads, with their ranges. */
export const WavLMConfigSchema = z.looseObject({
  hidden_size: count, num_hidden_layers: count, num_attention_heads: count, intermediate_size: count, hidden_act: activation,
  feat_extract_activation: activation.optional(), layer_norm_eps: z.number().positive(), feat_extract_norm: z.enum(['group', 'layer']),
  conv_dim: z.array(count).min(1), conv_kernel: z.array(count).min(1), conv_stride: z.array(count).min(1), conv_bias: z.boolean(),
  num_conv_pos_embeddings: count, num_conv_pos_embedding_groups: count, num_buckets: count, max_bucket_distance: count,
  do_stable_layer_norm: z.boolean(), hidden_dropout: rate, attention_dropout: rate, activation_dropout: rate, feat_proj_dropout: rate, layerdrop: rate,
  apply_spec_augment: z.boolean(), mask_time_prob: rate, mask_time_length: count, mask_time_min_masks: z.number().int().min(0),
  mask_feature_prob: rate, mask_feature_length: count, mask_feature_min_masks: z.number().int().min(0),
});

/** Reads and checks a WavLM config.json. */
export function readWavLMConfig(dir: string | ModelFiles): WavLMConfig {
  return readConfig<WavLMConfig>(dir, ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size'], WAVLM_DEFAULTS, WavLMConfigSchema, [
    headsDivideHidden,
    (c) => (c.conv_kernel.length !== c.conv_dim.length || c.conv_stride.length !== c.conv_dim.length
      ? { key: 'conv_kernel', why: `conv_dim, conv_kernel and conv_stride must have one entry per conv layer (${c.conv_dim.length}, ${c.conv_kernel.length}, ${c.conv_stride.length})` } : null),
    (c) => (c.hidden_size % c.num_conv_pos_embedding_groups ? { key: 'num_conv_pos_embedding_groups', why: `does not divide hidden_size = ${c.hidden_size}` } : null),
  ]);
}

/** Frames produced for `samples` input samples: L ← floor((L − k)/s) + 1 through every conv. */
export function frameLength(samples: number, c: Pick<WavLMConfig, 'conv_kernel' | 'conv_stride'>): number {
  let L = samples;
  c.conv_kernel.forEach((k, i) => (L = Math.max(0, Math.floor((L - k) / c.conv_stride[i]!) + 1)));
  return L;
}

/**
 * Relative-position bucket of (key − query), as `_relative_positions_bucket` with f32 rounding
 * at each step (torch computes the log branch in float32).
 */
export function relativePositionBucket(rel: number, numBuckets = 320, maxDistance = 800): number {
  const nb = numBuckets / 2;
  let bucket = rel > 0 ? nb : 0;
  const a = Math.abs(rel);
  const maxExact = nb / 2;
  if (a < maxExact) return bucket + a;
  const f = Math.fround;
  const v = f(f(f(Math.log(f(f(a) / maxExact))) / f(Math.log(maxDistance / maxExact))) * (nb - maxExact));
  bucket += Math.min(Math.trunc(f(maxExact + v)), nb - 1);
  return bucket;
}

/**
 * The T×T table of relative-position buckets, built on the host once per (T, buckets, distance)
 * and kept on the GPU: rebuilding it on every forward cost T² bucket computations and an upload
 * in the middle of the graph (which forces a submit). The few most recent lengths are kept.
 */
const bucketTables = new Map<string, { t: Tensor; device: GPUDevice }>();
function bucketTable(T: number, numBuckets: number, maxDistance: number): Tensor {
  const key = `${T}:${numBuckets}:${maxDistance}`;
  const device = gpuDevice();
  const hit = bucketTables.get(key);
  bucketTables.delete(key); // most recent last
  if (hit && !hit.t.disposed && hit.device === device) {
    bucketTables.set(key, hit);
    return hit.t;
  }
  const b = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) b[i * T + j] = relativePositionBucket(j - i, numBuckets, maxDistance);
  const t = keep(fromArray(b, [T, T], 'i32'));
  bucketTables.set(key, { t, device });
  if (bucketTables.size > 8) {
    const [oldKey, old] = bucketTables.entries().next().value as [string, { t: Tensor; device: GPUDevice }];
    bucketTables.delete(oldKey);
    if (old.device === device) old.t.dispose();
  }
  return t;
}

class ConvLayer extends Module {
  conv: { weight: Tensor; bias: Tensor | null } & Module;
  layer_norm?: Module & { weight: Tensor; bias: Tensor };
  constructor(inC: number, outC: number, k: number, readonly stride: number, bias: boolean, norm: 'group' | 'layer' | null, rng: Rng) {
    super();
    this.conv = new ConvWeights(outC, inC, k, bias, rng);
    if (norm) this.layer_norm = new LayerNorm(outC);
    this.norm = norm;
  }
  readonly norm: 'group' | 'layer' | null;
  /**
   * The first layer: the waveform [B, 1, S] (one channel, a few samples per frame) is unfolded by
   * im2col, channels first, where the group norm normalizes each channel over time; the result
   * goes on channels last [B, T, C].
   */
  forwardFirst(wave: Tensor): Tensor {
    const { weight, bias } = this.conv;
    const ln = this.layer_norm;
    // One clip (the feature encoder takes long clips one at a time): the group norm reads the
    // product W · cols [Cout, W] in place, its rows padded to a multiple of 4 as conv1d pads
    // them, instead of conv1d slicing the 512 × T/5 product out first.
    if (this.norm === 'group' && wave.shape[0] === 1 && !bias) {
      const [Cout, , K] = weight.shape as [number, number, number];
      const T = Math.floor((wave.shape[2]! - K) / this.stride) + 1;
      const W = Math.ceil(T / 4) * 4;
      const cols = im2col(wave, K, this.stride, 0, 1, W);
      const y = matmul(weight.reshape([Cout, K]), cols); // [1, Cout, W]
      if (!y.requiresGrad) cols.dispose(); // dW reads it
      const out = groupNormChannelsLast(y, ln!.weight, ln!.bias, { activation: 'gelu', length: T });
      if (!out.requiresGrad) y.dispose();
      return out;
    }
    const y = conv1d(wave, weight, bias, { stride: this.stride });
    // Group norm, GELU and the transpose in one pass.
    if (this.norm === 'group') {
      const out = groupNormChannelsLast(y, ln!.weight, ln!.bias, { activation: 'gelu' });
      if (!out.requiresGrad) y.dispose();
      return out;
    }
    const t = transpose(y);
    return gelu(this.norm === 'layer' ? layerNorm(t, this.layer_norm!.weight, this.layer_norm!.bias) : t);
  }
  /** A later layer, channels last [B, T, Cin] → [B, T', Cout]: its frames are read in place. */
  forward(x: Tensor): Tensor {
    if (this.norm === 'group') throw new Error('WavLM: group norm is only supported on the first conv layer (as feat_extract_norm="group" does)');
    if (this.norm !== 'layer') return conv1dFrames(x, this.conv.weight, this.conv.bias, { stride: this.stride, activation: 'gelu' });
    return gelu(layerNorm(conv1dFrames(x, this.conv.weight, this.conv.bias, { stride: this.stride }), this.layer_norm!.weight, this.layer_norm!.bias));
  }
}

class ConvWeights extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(outC: number, inC: number, k: number, bias: boolean, rng: Rng) {
    super();
    const bound = 1 / Math.sqrt(inC * k);
    this.weight = param(uniformInit(outC * inC * k, bound, rng), [outC, inC, k]);
    this.bias = bias ? param(uniformInit(outC, bound, rng), [outC]) : null;
  }
}

export class WavLMFeatureEncoder extends Module {
  conv_layers: ConvLayer[];
  constructor(c: WavLMConfig, rng: Rng) {
    super();
    this.conv_layers = c.conv_dim.map((d, i) => new ConvLayer(i === 0 ? 1 : c.conv_dim[i - 1]!, d, c.conv_kernel[i]!, c.conv_stride[i]!, c.conv_bias,
      c.feat_extract_norm === 'layer' ? 'layer' : i === 0 ? 'group' : null, rng));
  }
  /**
   * waveform [B, S] → features [B, T, C] (channels last: HF's `extract_features.transpose(1, 2)`).
   * The convs treat items independently, so when the first layer's batched output would not fit
   * one storage binding (long clips, e.g. 4 × 8 s of wavlm-base), the items go through one at a
   * time and are joined at the (small) end.
   */
  forward(wave: Tensor): Tensor {
    const [B, S] = wave.shape as [number, number];
    const first = this.conv_layers[0]!;
    const t0 = Math.floor((S - first.conv.weight.shape[2]!) / first.stride) + 1;
    if (B > 1 && B * first.conv.weight.shape[0]! * t0 * 4 > deviceInfo().limits.maxStorageBufferBindingSize) {
      return concat(Array.from({ length: B }, (_, i) => this.forward(narrow(wave, 0, i, 1))), 0);
    }
    let x = first.forwardFirst(wave.reshape([B, 1, S]));
    for (const l of this.conv_layers.slice(1)) {
      const y = l.forward(x);
      // Without gradients nothing reads a layer's input again: freed now, not at the end of the
      // step (the largest tensors of the model, 512 × T/5). With them, dW needs its frames.
      if (!y.requiresGrad) x.dispose();
      x = y;
    }
    return x;
  }
}

export class WavLMFeatureProjection extends Module {
  layer_norm: LayerNorm;
  projection: Linear;
  dropout: Dropout;
  constructor(c: WavLMConfig, rng: Rng) {
    super();
    this.layer_norm = new LayerNorm(c.conv_dim.at(-1)!, c.layer_norm_eps);
    this.projection = new Linear(c.conv_dim.at(-1)!, c.hidden_size, rng);
    this.dropout = new Dropout(c.feat_proj_dropout, rng);
  }
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.projection.forward(this.layer_norm.forward(x)));
  }
}

/** Conv1d(D, D, k, padding k/2, groups) with weight norm over dim 2 (`weight_g`, `weight_v`). */
class WeightNormConv extends Module {
  weight_g: Tensor;
  weight_v: Tensor;
  bias: Tensor;
  constructor(D: number, readonly k: number, readonly groups: number, rng: Rng) {
    super();
    this.weight_v = param(uniformInit(D * (D / groups) * k, 1 / Math.sqrt((D / groups) * k), rng), [D, D / groups, k]);
    this.weight_g = param(new Float32Array(k).fill(1), [1, 1, k]);
    this.bias = param(new Float32Array(D), [D]);
  }
  /** weight = g · v / ‖v‖, the norm over dims 0 and 1 (torch._weight_norm(v, g, dim=2)). */
  weight(): Tensor {
    return mul(this.weight_g, div(this.weight_v, sqrt(sum(square(this.weight_v), [0, 1], true))));
  }
}

export class WavLMPositionalConvEmbedding extends Module {
  conv: WeightNormConv;
  constructor(c: WavLMConfig, rng: Rng) {
    super();
    this.conv = new WeightNormConv(c.hidden_size, c.num_conv_pos_embeddings, c.num_conv_pos_embedding_groups, rng);
  }
  /**
   * x [B, T, D] → GELU(conv(x)) [B, T, D] with the extra frame of an even kernel removed; channels
   * last throughout, the frames read in place (the unfolded matrix, K = 128 frames × 768 channels
   * per step, would be 5× the binding limit at 4 × 8 s).
   */
  forward(x: Tensor): Tensor {
    const T = x.shape[1]!;
    const y = conv1dFrames(x, this.conv.weight(), this.conv.bias, { padding: Math.floor(this.conv.k / 2), groups: this.conv.groups, activation: 'gelu' });
    return this.conv.k % 2 === 0 ? narrow(y, 1, 0, T) : y;
  }
}

export class WavLMAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
  gru_rel_pos_const: Tensor;
  gru_rel_pos_linear: Linear;
  rel_attn_embed?: { weight: Tensor } & Module;
  /** Dropout on the attention weights (`attention_dropout`, training). */
  dropout: Dropout;
  constructor(readonly c: WavLMConfig, hasRelEmbed: boolean, rng: Rng) {
    super();
    const D = c.hidden_size;
    const H = c.num_attention_heads;
    this.q_proj = new Linear(D, D, rng);
    this.k_proj = new Linear(D, D, rng);
    this.v_proj = new Linear(D, D, rng);
    this.out_proj = new Linear(D, D, rng);
    this.gru_rel_pos_const = param(new Float32Array(H).fill(1), [1, H, 1, 1]);
    this.gru_rel_pos_linear = new Linear(D / H, 8, rng);
    if (hasRelEmbed) this.rel_attn_embed = new EmbeddingWeight(c.num_buckets, H, rng);
    this.dropout = new Dropout(c.attention_dropout, rng);
  }

  /** The ungated bias [1, H, T, T] from the bucket embedding (layer 0 only). */
  computeBias(T: number): Tensor {
    const values = embedding(bucketTable(T, this.c.num_buckets, this.c.max_bucket_distance), this.rel_attn_embed!.weight); // [T, T, H]
    return permute(values, [2, 0, 1]).reshape([1, this.c.num_attention_heads, T, T]);
  }

  /**
   * Self-attention with the gated relative position bias. With attention dropout in training, or
   * when the weights are asked for, the weights are formed (the composed path) and returned
   * after dropout, averaged over heads [B, T, T], as HF's `attentions`. With `residual`, the
   * output projection's kernel adds it (`residual + out`).
   */
  forward(x: Tensor, positionBias: Tensor, keyPaddingMask: Tensor | null, outputAttentions = false, residual?: Tensor): { out: Tensor; weights?: Tensor } {
    const [B, T, D] = x.shape as [number, number, number];
    const H = this.c.num_attention_heads;
    // Gate from the layer input split into heads: sigmoid of two sums of 4 → (a, b). Computed on
    // x viewed as [B, T, H, Dh]; only the small result moves heads before time (HF permutes x).
    const proj = this.gru_rel_pos_linear.forward(x.reshape([B, T, H, D / H])).reshape([B, T, H, 2, 4]);
    const gates = permute(sigmoid(sum(proj, 4)), [0, 2, 1, 3]); // [B,H,T,2]
    const ga = narrow(gates, 3, 0, 1); // [B,H,T,1]
    const gb = narrow(gates, 3, 1, 1);
    const gate = affine(mul(ga, affine(mul(gb, this.gru_rel_pos_const), 1, -1)), 1, 2);
    const bias = mul(gate, positionBias); // [B,H,T,T]
    const [q, k, v] = [splitHeads(this.q_proj.forward(x), H), splitHeads(this.k_proj.forward(x), H), splitHeads(this.v_proj.forward(x), H)];
    let a: Tensor;
    let weights: Tensor | undefined;
    if (outputAttentions || (this.training && this.dropout.p > 0)) {
      const w = this.dropout.forward(attentionWeights(q, k, { bias, keyPaddingMask }));
      a = matmul(w, v);
      if (outputAttentions) weights = mean(w, 1);
    } else {
      a = attention(q, k, v, { bias, keyPaddingMask });
    }
    return { out: this.out_proj.forward(permute(a, [0, 2, 1, 3]).reshape([B, T, D]), { residual }), weights };
  }
}

class EmbeddingWeight extends Module {
  weight: Tensor;
  constructor(n: number, d: number, rng: Rng) {
    super();
    this.weight = param(uniformInit(n * d, 0.02, rng), [n, d]);
  }
}

export class WavLMFeedForward extends Module {
  intermediate_dense: Linear;
  intermediate_dropout: Dropout;
  output_dense: Linear;
  output_dropout: Dropout;
  constructor(c: WavLMConfig, rng: Rng) {
    super();
    this.intermediate_dense = new Linear(c.hidden_size, c.intermediate_size, rng);
    this.intermediate_dropout = new Dropout(c.activation_dropout, rng);
    this.output_dense = new Linear(c.intermediate_size, c.hidden_size, rng);
    this.output_dropout = new Dropout(c.hidden_dropout, rng);
  }
  /** The block's output; with `residual`, `residual + output` (added in the output kernel when dropout is off). */
  forward(x: Tensor, residual?: Tensor): Tensor {
    const h = this.intermediate_dropout.forward(this.intermediate_dense.forward(x, { activation: 'gelu' }));
    if (residual && this.output_dropout.identity) return this.output_dense.forward(h, { residual });
    const y = this.output_dropout.forward(this.output_dense.forward(h));
    return residual ? add(residual, y) : y;
  }
}

/** One layer; post-LN (base) or pre-LN (`do_stable_layer_norm`, large). */
export class WavLMEncoderLayer extends Module {
  attention: WavLMAttention;
  layer_norm: LayerNorm;
  feed_forward: WavLMFeedForward;
  final_layer_norm: LayerNorm;
  dropout: Dropout;
  constructor(readonly c: WavLMConfig, index: number, rng: Rng) {
    super();
    this.attention = new WavLMAttention(c, index === 0, rng);
    this.layer_norm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.feed_forward = new WavLMFeedForward(c, rng);
    this.final_layer_norm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout, rng);
  }
  forward(x: Tensor, bias: Tensor, mask: Tensor | null, outputAttentions = false): { out: Tensor; weights?: Tensor } {
    if (this.c.do_stable_layer_norm) {
      // Without dropout, residuals are added by the projections' kernels as they store.
      const fuse = this.dropout.identity;
      const a = this.attention.forward(this.layer_norm.forward(x), bias, mask, outputAttentions, fuse ? x : undefined);
      const h = fuse ? a.out : add(x, this.dropout.forward(a.out));
      return { out: this.feed_forward.forward(this.final_layer_norm.forward(h), h), weights: a.weights };
    }
    const fuse = this.dropout.identity;
    const a = this.attention.forward(x, bias, mask, outputAttentions, fuse ? x : undefined);
    const h = this.layer_norm.forward(fuse ? a.out : add(x, this.dropout.forward(a.out)));
    return { out: this.final_layer_norm.forward(this.feed_forward.forward(h, h)), weights: a.weights };
  }
}

export class WavLMEncoder extends Module {
  pos_conv_embed: WavLMPositionalConvEmbedding;
  layer_norm: LayerNorm;
  /** `hidden_dropout` on the layers' input. */
  dropout: Dropout;
  layers: WavLMEncoderLayer[];
  constructor(readonly config: WavLMConfig, private readonly _rng: Rng) {
    super();
    this.pos_conv_embed = new WavLMPositionalConvEmbedding(config, _rng);
    this.layer_norm = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.dropout = new Dropout(config.hidden_dropout, _rng);
    this.layers = Array.from({ length: config.num_hidden_layers }, (_, i) => new WavLMEncoderLayer(config, i, _rng));
  }

  /**
   * HF's `WavLMEncoder` (`do_stable_layer_norm` false) and `WavLMEncoderStableLayerNorm` (true):
   * padded frames zeroed, the positional conv added, the layers with LayerDrop in training, and
   * the LayerNorm before the layers or after them. `valid` [B, T, 1] is 1 on real frames (HF's
   * `attention_mask` at frame rate); padded frames are also masked as keys.
   */
  forward(hiddenStates: Tensor, valid: Tensor | null, outputHiddenStates = false, outputAttentions = false): { lastHiddenState: Tensor; hiddenStates?: Tensor[]; attentions?: Array<Tensor | null> } {
    const c = this.config;
    const T = hiddenStates.shape[1]!;
    let h = valid ? mul(hiddenStates, valid) : hiddenStates;
    const pad = valid ? affine(valid.reshape(valid.shape.slice(0, 2)), -1, 1) : null;
    h = add(h, profileScope('encoder.pos_conv_embed', () => this.pos_conv_embed.forward(h)));
    if (!c.do_stable_layer_norm) h = this.layer_norm.forward(h);
    h = this.dropout.forward(h);
    const all = outputHiddenStates ? [h] : undefined;
    const attentions = outputAttentions ? [] as Array<Tensor | null> : undefined;
    const bias = this.layers[0]!.attention.computeBias(T);
    // LayerDrop (training only; never layer 0, as HF, whose output the others build on).
    const L = this.layers.length;
    const runs = this.training && c.layerdrop > 0
      ? givenMask(this.site('layerdrop'), [L]) ?? Float32Array.from(this.layers, (_, i) => (i > 0 && this._rng.next() < c.layerdrop ? 0 : 1)) : null;
    this.layers.forEach((layer, i) => {
      if (!runs || runs[i]) {
        const r = profileScope(`encoder.layers.${i}`, () => layer.forward(h, bias, pad, outputAttentions));
        h = r.out;
        attentions?.push(r.weights!);
      } else {
        attentions?.push(null);
      }
      all?.push(h);
    });
    if (c.do_stable_layer_norm) {
      h = this.layer_norm.forward(h);
      if (all) all[all.length - 1] = h;
    }
    return { lastHiddenState: h, hiddenStates: all, attentions };
  }
}

/** Output of {@link WavLMModel.forward}. */
export interface WavLMOutput {
  lastHiddenState: Tensor;
  /** HF `hidden_states`: layer 0's input, then every layer's output (the last after the final LayerNorm for large). */
  hiddenStates?: Tensor[];
  /** Conv encoder output [B, T, C] (before the projection's LayerNorm). */
  convFeatures: Tensor;
  /** With `outputAttentions`: each layer's attention weights averaged over heads [B, T, T], after attention dropout (HF's `attentions`); null for a layer LayerDrop skipped. */
  attentions?: Array<Tensor | null>;
  /** Valid frames per item. */
  frameLengths: number[];
}

/**
 * SpecAugment time-mask spans as HF's `_compute_mask_indices`: per item with L valid frames,
 * max(minMasks, ⌊p·L/len + u⌋) spans (u uniform, one draw per batch), capped at L/len, starts
 * drawn without replacement from [0, L − len]. Returns a [B, T] 0/1 mask.
 */
export function timeMaskSpans(lengths: number[], T: number, p: number, len: number, minMasks: number, rng: Rng): Float32Array {
  const m = new Float32Array(lengths.length * T);
  const u = rng.next();
  lengths.forEach((L, b) => {
    if (L < len) return;
    let n = Math.max(minMasks, Math.floor((p * L) / len + u));
    n = Math.min(n, Math.floor(L / len));
    const starts = Array.from({ length: L - len + 1 }, (_, i) => i);
    for (let k = 0; k < n; k++) {
      const j = k + Math.floor(rng.next() * (starts.length - k));
      [starts[k], starts[j]] = [starts[j]!, starts[k]!];
      m.fill(1, b * T + starts[k]!, b * T + starts[k]! + len);
    }
  });
  return m;
}

/** The bare WavLM encoder. */
export class WavLMModel extends Module {
  feature_extractor: WavLMFeatureEncoder;
  feature_projection: WavLMFeatureProjection;
  encoder: WavLMEncoder;
  masked_spec_embed: Tensor;
  /** Draws LayerDrop and SpecAugment decisions (training mode only). */
  readonly _rng: Rng;
  constructor(readonly config: WavLMConfig, seed = 0) {
    super();
    const rng = (this._rng = new Rng(seed));
    this.feature_extractor = new WavLMFeatureEncoder(config, rng);
    this.feature_projection = new WavLMFeatureProjection(config, rng);
    this.encoder = new WavLMEncoder(config, rng);
    this.masked_spec_embed = param(uniformInit(config.hidden_size, 1, rng), [config.hidden_size]);
  }

  /** Freezes the conv feature encoder (the usual fine-tuning set-up). */
  freezeFeatureEncoder(): void {
    this.feature_extractor.freeze();
  }

  /**
   * waveform [B, S] with `lengths` valid samples per item (default: all) → hidden states.
   * Padded frames are zeroed before the positional conv and masked as keys, as HF does with an
   * attention mask.
   */
  forward(wave: Tensor, lengths?: number[], outputHiddenStates = false, outputAttentions = false): WavLMOutput {
    const c = this.config;
    const [B, S] = wave.shape as [number, number];
    const conv = profileScope('feature_extractor', () => this.feature_extractor.forward(wave)); // [B, T, C]
    const T = conv.shape[1]!;
    const frameLengths = (lengths ?? new Array(B).fill(S)).map((L) => Math.min(T, frameLength(L, c)));
    let h = profileScope('feature_projection', () => this.feature_projection.forward(conv));
    if (this.training && c.apply_spec_augment && c.mask_time_prob > 0) {
      // SpecAugment (HF's `_mask_hidden_states`): masked frames take the learned masked_spec_embed.
      // Spans fall on valid frames only, so masking before the encoder zeroes padding is HF's order.
      const m = givenMask(this.site('mask_time_indices'), [B, T]) ?? timeMaskSpans(frameLengths, T, c.mask_time_prob, c.mask_time_length, c.mask_time_min_masks, this._rng);
      if (m.some((v) => v)) h = where(fromArray(m, [B, T, 1]), this.masked_spec_embed, h);
    }
    if (this.training && c.apply_spec_augment && c.mask_feature_prob > 0) {
      // Feature masking: spans of channels, per item, set to 0 on every frame.
      const D = c.hidden_size;
      const m = givenMask(this.site('mask_feature_indices'), [B, D]) ?? timeMaskSpans(new Array(B).fill(D), D, c.mask_feature_prob, c.mask_feature_length, c.mask_feature_min_masks, this._rng);
      if (m.some((v) => v)) h = mul(h, fromArray(m.map((v) => 1 - v), [B, 1, D]));
    }
    let valid: Tensor | null = null;
    if (lengths) {
      const v = new Float32Array(B * T);
      frameLengths.forEach((L, b) => v.fill(1, b * T, b * T + L));
      valid = fromArray(v, [B, T, 1]);
    }
    const out = this.encoder.forward(h, valid, outputHiddenStates, outputAttentions);
    return { ...out, convFeatures: conv, frameLengths };
  }
}

