/**
 * RoBERTa as Hugging Face's `RobertaModel` computes it (post-LN encoder, GELU, absolute
 * positions counted from the padding index). Class and property names follow
 * `modeling_roberta.py`, so parameter paths are checkpoint keys (`embeddings.LayerNorm.weight`,
 * `encoder.layer.0.attention.self.query.weight`, …).
 * @module
 */
import { Tensor, Rng, fromArray } from '../tensor/tensor.js';
import { add, permute, attention, attentionWeights, matmul } from '../kernels/index.js';
import { Module, Linear, LayerNorm, Embedding, Dropout, splitHeads } from './module.js';
import { profileScope } from '../tensor/runtime.js';
import { z } from 'zod';
import type { ModelFiles } from './model_files.js';
import { readConfig, count, rate, activation, headsDivideHidden } from './config.js';

/** `config.json` of a RoBERTa checkpoint (the fields this model reads). */
export interface RobertaConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  pad_token_id: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  hidden_act: string;
}

/** roberta-base's values, used where config.json is silent. */
export const ROBERTA_DEFAULTS: RobertaConfig = {
  vocab_size: 50265, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072,
  max_position_embeddings: 514, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1,
  hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, hidden_act: 'gelu',
};

/** The fields of a RoBERTa config.json this project reads, with their ranges. */
export const RobertaConfigSchema = z.looseObject({
  vocab_size: count, hidden_size: count, num_hidden_layers: count, num_attention_heads: count, intermediate_size: count,
  max_position_embeddings: count, type_vocab_size: count, layer_norm_eps: z.number().positive(), pad_token_id: z.number().int().min(0),
  hidden_dropout_prob: rate, attention_probs_dropout_prob: rate, hidden_act: activation,
});

/** Reads and checks a RoBERTa config.json. */
export function readRobertaConfig(dir: string | ModelFiles): RobertaConfig {
  return readConfig<RobertaConfig>(dir, ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size'], ROBERTA_DEFAULTS, RobertaConfigSchema, [
    headsDivideHidden,
    (c) => (c.pad_token_id >= c.vocab_size ? { key: 'pad_token_id', why: `outside the vocabulary (vocab_size ${c.vocab_size})` } : null),
    // Positions count from pad_token_id + 1 (fairseq), so the table needs room past it.
    (c) => (c.max_position_embeddings < c.pad_token_id + 2 ? { key: 'max_position_embeddings', why: `positions start at pad_token_id + 1 = ${c.pad_token_id + 1}` } : null),
  ]);
}

/** Position ids as fairseq/HF: real tokens get pad+1, pad+2, …; pads get pad. */
export function robertaPositionIds(ids: ArrayLike<number>, T: number, pad: number): Int32Array {
  const out = new Int32Array(ids.length);
  for (let b = 0; b < ids.length / T; b++) {
    let c = 0;
    for (let t = 0; t < T; t++) {
      const real = ids[b * T + t] !== pad;
      if (real) c++;
      out[b * T + t] = real ? pad + c : pad;
    }
  }
  return out;
}

export class RobertaEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(readonly c: RobertaConfig, rng: Rng) {
    super();
    this.word_embeddings = new Embedding(c.vocab_size, c.hidden_size, rng, c.pad_token_id, 0.02);
    this.position_embeddings = new Embedding(c.max_position_embeddings, c.hidden_size, rng, c.pad_token_id, 0.02);
    this.token_type_embeddings = new Embedding(c.type_vocab_size, c.hidden_size, rng, undefined, 0.02);
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }
  forward(ids: Tensor): Tensor {
    const [B, T] = ids.shape as [number, number];
    if (!ids.host) throw new Error('RobertaEmbeddings: input ids need a host copy (fromArray(..., "i32"))');
    const pos = robertaPositionIds(ids.host, T, this.c.pad_token_id);
    const maxPos = Math.max(...pos);
    if (maxPos >= this.c.max_position_embeddings) throw new Error(`RoBERTa: ${T} tokens need position ${maxPos}, but max_position_embeddings is ${this.c.max_position_embeddings} (truncate to ${this.c.max_position_embeddings - this.c.pad_token_id - 1} tokens)`);
    const x = add(add(this.word_embeddings.forward(ids), this.position_embeddings.forward(fromArray(pos, [B, T], 'i32'))),
      this.token_type_embeddings.forward(fromArray(new Int32Array(B * T), [B, T], 'i32')));
    return this.dropout.forward(this.LayerNorm.forward(x));
  }
}

export class RobertaSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  /** Dropout on the attention probabilities (`attention_probs_dropout_prob`, training). */
  dropout: Dropout;
  constructor(readonly c: RobertaConfig, rng: Rng) {
    super();
    this.query = new Linear(c.hidden_size, c.hidden_size, rng, { std: 0.02 });
    this.key = new Linear(c.hidden_size, c.hidden_size, rng, { std: 0.02 });
    this.value = new Linear(c.hidden_size, c.hidden_size, rng, { std: 0.02 });
    this.dropout = new Dropout(c.attention_probs_dropout_prob, rng);
  }
  /**
   * With attention dropout in training, or when the probabilities are asked for, they are formed
   * (the composed path) and returned after dropout [B, H, T, T], as HF's `attentions`.
   */
  forward(x: Tensor, keyPaddingMask: Tensor | null, outputAttentions = false): { out: Tensor; weights?: Tensor } {
    const [B, T, D] = x.shape as [number, number, number];
    const H = this.c.num_attention_heads;
    const [q, k, v] = [splitHeads(this.query.forward(x), H), splitHeads(this.key.forward(x), H), splitHeads(this.value.forward(x), H)];
    let a: Tensor;
    let weights: Tensor | undefined;
    if (outputAttentions || (this.training && this.dropout.p > 0)) {
      const w = this.dropout.forward(attentionWeights(q, k, { keyPaddingMask }));
      a = matmul(w, v);
      if (outputAttentions) weights = w;
    } else {
      a = attention(q, k, v, { keyPaddingMask });
    }
    return { out: permute(a, [0, 2, 1, 3]).reshape([B, T, D]), weights };
  }
}

/** dense → dropout → LayerNorm(· + residual): HF's SelfOutput and Output. */
export class RobertaResidualOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(inDim: number, c: RobertaConfig, rng: Rng) {
    super();
    this.dense = new Linear(inDim, c.hidden_size, rng, { std: 0.02 });
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, rng);
  }
  forward(h: Tensor, residual: Tensor): Tensor {
    // Without dropout the residual is added by the dense layer's kernel as it stores.
    if (this.dropout.identity) return this.LayerNorm.forward(this.dense.forward(h, { residual }));
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

export class RobertaAttention extends Module {
  self: RobertaSelfAttention;
  output: RobertaResidualOutput;
  constructor(c: RobertaConfig, rng: Rng) {
    super();
    this.self = new RobertaSelfAttention(c, rng);
    this.output = new RobertaResidualOutput(c.hidden_size, c, rng);
  }
  forward(x: Tensor, mask: Tensor | null, outputAttentions = false): { out: Tensor; weights?: Tensor } {
    const a = this.self.forward(x, mask, outputAttentions);
    return { out: this.output.forward(a.out, x), weights: a.weights };
  }
}

export class RobertaIntermediate extends Module {
  dense: Linear;
  constructor(c: RobertaConfig, rng: Rng) {
    super();
    this.dense = new Linear(c.hidden_size, c.intermediate_size, rng, { std: 0.02 });
  }
  forward(x: Tensor): Tensor {
    return this.dense.forward(x, { activation: 'gelu' });
  }
}

export class RobertaLayer extends Module {
  attention: RobertaAttention;
  intermediate: RobertaIntermediate;
  output: RobertaResidualOutput;
  constructor(c: RobertaConfig, rng: Rng) {
    super();
    this.attention = new RobertaAttention(c, rng);
    this.intermediate = new RobertaIntermediate(c, rng);
    this.output = new RobertaResidualOutput(c.intermediate_size, c, rng);
  }
  forward(x: Tensor, mask: Tensor | null, outputAttentions = false): { out: Tensor; weights?: Tensor } {
    const a = this.attention.forward(x, mask, outputAttentions);
    return { out: this.output.forward(this.intermediate.forward(a.out), a.out), weights: a.weights };
  }
}

export class RobertaEncoder extends Module {
  layer: RobertaLayer[];
  constructor(c: RobertaConfig, rng: Rng) {
    super();
    this.layer = Array.from({ length: c.num_hidden_layers }, () => new RobertaLayer(c, rng));
  }

  /** The layers in order; `pad` [B, T] marks padded tokens (1 = padding), masked as keys. */
  forward(hiddenStates: Tensor, pad: Tensor | null, outputHiddenStates = false, outputAttentions = false): EncoderOutput {
    let h = hiddenStates;
    const all = outputHiddenStates ? [h] : undefined;
    const attentions = outputAttentions ? [] as Tensor[] : undefined;
    for (const [i, layer] of this.layer.entries()) {
      const r = profileScope(`encoder.layer.${i}`, () => layer.forward(h, pad, outputAttentions));
      h = r.out;
      attentions?.push(r.weights!);
      all?.push(h);
    }
    return { lastHiddenState: h, hiddenStates: all, attentions };
  }
}

/** Output of {@link RobertaModel.forward}. */
export interface EncoderOutput {
  lastHiddenState: Tensor;
  /** Input of layer 0 then every layer's output (HF `hidden_states`), when asked for. */
  hiddenStates?: Tensor[];
  /** With `outputAttentions`: each layer's attention probabilities [B, H, T, T], after attention dropout (HF's `attentions`). */
  attentions?: Tensor[];
}

/** The bare RoBERTa encoder (no pooler). */
export class RobertaModel extends Module {
  embeddings: RobertaEmbeddings;
  encoder: RobertaEncoder;
  /** Draws the dropout masks (training mode only). */
  readonly _rng: Rng;
  constructor(readonly config: RobertaConfig, seed = 0) {
    super();
    const rng = (this._rng = new Rng(seed));
    this.embeddings = new RobertaEmbeddings(config, rng);
    this.encoder = new RobertaEncoder(config, rng);
  }

  /** ids [B, T] (i32, from fromArray) and attention mask [B, T] (1 = token) → hidden states. */
  forward(ids: Tensor, attentionMask?: ArrayLike<number>, outputHiddenStates = false, outputAttentions = false): EncoderOutput {
    const [B, T] = ids.shape as [number, number];
    const pad = attentionMask ? fromArray(Float32Array.from(attentionMask, (m) => (m ? 0 : 1)), [B, T]) : null;
    return this.encoder.forward(profileScope('embeddings', () => this.embeddings.forward(ids)), pad, outputHiddenStates, outputAttentions);
  }
}
