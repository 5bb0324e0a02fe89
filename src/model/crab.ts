/**
 * Crab: the bimodal speech-emotion head with Multi Layer Contrastive Supervision (MLCS), as the
 * authors' code builds it (`MultiModalEmotionClassifierDeep`). Property names are their
 * state-dict names, so their checkpoints load as they are.
 *
 *   speech: Linear(d_s → h) → LayerNorm → BiGRU(h) → S            (B, T_s, 2h)
 *   text:   Linear(d_t → h) → LayerNorm → BiGRU(h) → X            (B, T_t, 2h)
 *   S' = S + MHA(S, X, X);  X' = X + MHA(X, S, S)                  (cross-modal block)
 *   pool(Y) = Σ_t softmax_t(Linear(2h → 1)(Y)) · Y_t               (per modality)
 *   z = LayerNorm(concat[pool(S'), pool(X')]);  u = fc1(z);  logits = fc2(dropout(relu(u)))
 *   MLCS (training only): five projection heads on mean_t(proj_s), mean_t(proj_t), pool(S'),
 *   pool(X') and u (pre-ReLU); loss = CE_w + λ · mean of their multi-positive contrastive losses.
 *
 * Masks: with `maskPadding` (default) padded frames and tokens never reach the GRU state, the
 * attention, the pooling or the means. `maskPadding: false` reproduces the authors' head, which
 * takes no masks.
 *
 * Two options beyond the authors' head (both off by default):
 * - `speechLayers`/`textLayers` > 1: the input is every hidden state of an encoder,
 *   [B, T, L, d], mixed by a learned softmax-weighted sum (`speech_layer_weights`), the usual
 *   SER read-out of self-supervised encoders (SUPERB).
 * - `crossModalLayers` = N > 0: the single cross-attention block becomes a stack of N
 *   cross-modal transformer layers (multi-head cross-attention + FFN, pre-LN, as in MulT).
 * @module
 */
import { Tensor, Rng, fromArray } from '../tensor/tensor.js';
import {
  add, mul, relu, softmax, matmul, concat, sum, div, maskedFill, crossEntropy, contrastiveLoss, mean, scale,
} from '../kernels/index.js';
import { Module, Linear, LayerNorm, Dropout, param } from './module.js';
import { BiGRU } from './gru.js';
import { MultiheadAttention } from './mha.js';

/** The MLCS supervision points. */
export const MLCS_LAYERS = ['speech_frame', 'text_frame', 'speech_pooled', 'text_pooled', 'fusion'] as const;
/** One MLCS supervision point. */
export type MlcsLayer = (typeof MLCS_LAYERS)[number];

/** Crab's configuration; every size is a value here. Defaults are the authors'. */
export interface CrabConfig {
  /** Speech encoder width (WavLM-large: 1024). */
  speechDim: number;
  /** Text encoder width (RoBERTa-large: 1024). */
  textDim: number;
  numClasses: number;
  /** Projection width and GRU hidden size per direction (512). */
  hidden?: number;
  /** Width of the fusion layer fc1 (512). */
  fusionHidden?: number;
  /** Output width of the MLCS projection heads (512). */
  contrastiveDim?: number;
  /** Cross-attention heads (1). */
  attentionHeads?: number;
  /** Dropout on the attention weights (0.5) and after the fusion ReLU (0.5). */
  attentionDropout?: number;
  classifierDropout?: number;
  /** Mask padding everywhere (true) or reproduce the authors' unmasked head (false). */
  maskPadding?: boolean;
  /** MLCS: which layers get contrastive supervision (all five; [] = the baseline), λ (2.0), τ (0.1). */
  mlcsLayers?: MlcsLayer[];
  mlcsLambda?: number;
  mlcsTemperature?: number;
  /** Which branches exist: both (Crab) or one alone (the single-modality ablations). */
  modalities?: 'both' | 'speech' | 'text';
  /** Hidden states per encoder in the input (1 = last only; L > 1: a learned weighted sum of L). */
  speechLayers?: number;
  textLayers?: number;
  /** Cross-modal transformer layers replacing the single cross-attention block (0 = the authors' block). */
  crossModalLayers?: number;
  /** Heads (8), FFN width (4 × 2·hidden) and dropout (0.1) of those layers. */
  crossModalHeads?: number;
  crossModalFfn?: number;
  crossModalDropout?: number;
}

/** Config with every default filled in. */
export type ResolvedCrabConfig = Required<CrabConfig>;

/** Fills in the authors' defaults. */
export function resolveCrabConfig(c: CrabConfig): ResolvedCrabConfig {
  return {
    hidden: 512, fusionHidden: 512, contrastiveDim: 512, attentionHeads: 1, attentionDropout: 0.5, classifierDropout: 0.5,
    maskPadding: true, mlcsLayers: [...MLCS_LAYERS], mlcsLambda: 2.0, mlcsTemperature: 0.1, modalities: 'both',
    speechLayers: 1, textLayers: 1, crossModalLayers: 0, crossModalHeads: 8, crossModalFfn: 8 * (c.hidden ?? 512), crossModalDropout: 0.1, ...c,
  };
}

/** Linear → ReLU → Linear, named `.0` and `.2` like `nn.Sequential`. */
export class ProjectionMLP extends Module {
  '0': Linear;
  '2': Linear;
  constructor(inDim: number, midDim: number, outDim: number, rng: Rng) {
    super();
    this['0'] = new Linear(inDim, midDim, rng);
    this['2'] = new Linear(midDim, outDim, rng);
  }
  forward(x: Tensor): Tensor {
    return this['2'].forward(relu(this['0'].forward(x)));
  }
}

/**
 * One cross-modal transformer layer (pre-LN): each stream attends to the other's normalized
 * states, then runs its own FFN, both residual. Both streams update from the same inputs.
 */
export class CrossModalLayer extends Module {
  speech_attention_norm: LayerNorm;
  text_attention_norm: LayerNorm;
  speech_attention: MultiheadAttention;
  text_attention: MultiheadAttention;
  speech_ffn_norm: LayerNorm;
  text_ffn_norm: LayerNorm;
  speech_ffn: ProjectionMLP;
  text_ffn: ProjectionMLP;
  dropout: Dropout;

  constructor(dim: number, heads: number, ffn: number, p: number, rng: Rng) {
    super();
    this.speech_attention_norm = new LayerNorm(dim);
    this.text_attention_norm = new LayerNorm(dim);
    this.speech_attention = new MultiheadAttention(dim, heads, p, rng);
    this.text_attention = new MultiheadAttention(dim, heads, p, rng);
    this.speech_ffn_norm = new LayerNorm(dim);
    this.text_ffn_norm = new LayerNorm(dim);
    this.speech_ffn = new ProjectionMLP(dim, ffn, dim, rng);
    this.text_ffn = new ProjectionMLP(dim, ffn, dim, rng);
    this.dropout = new Dropout(p, rng);
  }

  /** S, X → S', X' (padding masks: 1 = pad). */
  forward(S: Tensor, X: Tensor, sPad: Tensor | null, tPad: Tensor | null): [Tensor, Tensor] {
    const s = this.speech_attention_norm.forward(S);
    const x = this.text_attention_norm.forward(X);
    const S1 = add(S, this.dropout.forward(this.speech_attention.forward(s, x, x, tPad)));
    const X1 = add(X, this.dropout.forward(this.text_attention.forward(x, s, s, sPad)));
    const S2 = add(S1, this.dropout.forward(this.speech_ffn.forward(this.speech_ffn_norm.forward(S1))));
    const X2 = add(X1, this.dropout.forward(this.text_ffn.forward(this.text_ffn_norm.forward(X1))));
    return [S2, X2];
  }
}

/** N cross-modal layers and a final LayerNorm per stream. */
export class CrossModalTransformer extends Module {
  layers: CrossModalLayer[];
  speech_norm: LayerNorm;
  text_norm: LayerNorm;
  constructor(n: number, dim: number, heads: number, ffn: number, p: number, rng: Rng) {
    super();
    this.layers = Array.from({ length: n }, () => new CrossModalLayer(dim, heads, ffn, p, rng));
    this.speech_norm = new LayerNorm(dim);
    this.text_norm = new LayerNorm(dim);
  }
  forward(S: Tensor, X: Tensor, sPad: Tensor | null, tPad: Tensor | null): [Tensor, Tensor] {
    for (const l of this.layers) [S, X] = l.forward(S, X, sPad, tPad);
    return [this.speech_norm.forward(S), this.text_norm.forward(X)];
  }
}

/** A batch for the head: encoder outputs and their valid lengths. */
export interface CrabInput {
  /** Speech features [B, T_s, d_s], or [B, T_s, L, d_s] with `speechLayers` = L > 1. */
  speech: Tensor;
  /** Text features [B, T_t, d_t], or [B, T_t, L, d_t] with `textLayers` = L > 1. */
  text: Tensor;
  /** Valid frames / tokens per item (default: all). */
  speechLengths?: number[];
  textLengths?: number[];
}

/** What the head computes: logits and (when asked) the five MLCS embeddings. */
export interface CrabOutput {
  logits: Tensor;
  embeddings: Partial<Record<MlcsLayer, Tensor>>;
  /**
   * With `withRepresentations`: what each MLCS head sees, per utterance — the frame-level
   * projections averaged over valid frames, the pooled vectors and the fusion layer (whether or
   * not the head is trained), for pictures of what MLCS does to the layers.
   */
  representations?: Partial<Record<MlcsLayer, Tensor>>;
  /**
   * With `withAttention`: the cross-attention weights of the authors' block, averaged over
   * heads (what their head returns): speech frames over text tokens [B, Ts, Tt] and text tokens
   * over speech frames [B, Tt, Ts]. Absent with `crossModalLayers` > 0 or one modality.
   */
  attention?: { speechToText: Tensor; textToSpeech: Tensor };
}

/** The loss and its parts. */
export interface CrabLoss {
  total: Tensor;
  ce: Tensor;
  contrastive: Partial<Record<MlcsLayer, Tensor>>;
}

/** The Crab head with its MLCS projection heads. */
export class Crab extends Module {
  readonly config: ResolvedCrabConfig;
  /** The generator dropout draws its seeds from (saved in checkpoints for exact resume). */
  readonly _rng: Rng;
  /** Logits of the softmax weights over the encoders' hidden states (only when L > 1). */
  speech_layer_weights?: Tensor;
  text_layer_weights?: Tensor;
  speech_projection?: Linear;
  speech_norm?: LayerNorm;
  speech_gru?: BiGRU;
  text_projection?: Linear;
  text_norm?: LayerNorm;
  text_gru?: BiGRU;
  speech_attention?: MultiheadAttention;
  text_attention?: MultiheadAttention;
  cross_modal?: CrossModalTransformer;
  speech_attn?: Linear;
  text_attn?: Linear;
  layer_norm: LayerNorm;
  classifier_fc1: Linear;
  classifier_dropout: Dropout;
  classifier_fc2: Linear;
  speech_contrastive_mlp?: ProjectionMLP;
  text_contrastive_mlp?: ProjectionMLP;
  speech_pooled_contrastive_mlp?: ProjectionMLP;
  text_pooled_contrastive_mlp?: ProjectionMLP;
  fusion_contrastive_mlp: ProjectionMLP;

  constructor(config: CrabConfig, seed = 42) {
    super();
    const c = (this.config = resolveCrabConfig(config));
    const rng = (this._rng = new Rng(seed));
    const h = c.hidden;
    const speech = c.modalities !== 'text';
    const text = c.modalities !== 'speech';
    const both = speech && text;
    // Property order = the authors' state-dict order; a missing modality's modules are absent.
    // Zero logits: the mix starts as the plain mean of the layers.
    if (speech && c.speechLayers > 1) this.speech_layer_weights = param(new Float32Array(c.speechLayers), [c.speechLayers]);
    if (text && c.textLayers > 1) this.text_layer_weights = param(new Float32Array(c.textLayers), [c.textLayers]);
    if (speech) {
      this.speech_projection = new Linear(c.speechDim, h, rng);
      this.speech_norm = new LayerNorm(h);
      this.speech_gru = new BiGRU(h, h, rng);
    }
    if (text) {
      this.text_projection = new Linear(c.textDim, h, rng);
      this.text_norm = new LayerNorm(h);
      this.text_gru = new BiGRU(h, h, rng);
    }
    if (both && c.crossModalLayers > 0) {
      this.cross_modal = new CrossModalTransformer(c.crossModalLayers, 2 * h, c.crossModalHeads, c.crossModalFfn, c.crossModalDropout, rng);
    } else if (both) {
      this.speech_attention = new MultiheadAttention(2 * h, c.attentionHeads, c.attentionDropout, rng);
      this.text_attention = new MultiheadAttention(2 * h, c.attentionHeads, c.attentionDropout, rng);
    }
    if (speech) this.speech_attn = new Linear(2 * h, 1, rng);
    if (text) this.text_attn = new Linear(2 * h, 1, rng);
    const pooled = (both ? 4 : 2) * h;
    this.layer_norm = new LayerNorm(pooled);
    this.classifier_fc1 = new Linear(pooled, c.fusionHidden, rng);
    this.classifier_dropout = new Dropout(c.classifierDropout, rng);
    this.classifier_fc2 = new Linear(c.fusionHidden, c.numClasses, rng);
    if (speech) this.speech_contrastive_mlp = new ProjectionMLP(h, h / 2, c.contrastiveDim, rng);
    if (text) this.text_contrastive_mlp = new ProjectionMLP(h, h / 2, c.contrastiveDim, rng);
    if (speech) this.speech_pooled_contrastive_mlp = new ProjectionMLP(2 * h, h, c.contrastiveDim, rng);
    if (text) this.text_pooled_contrastive_mlp = new ProjectionMLP(2 * h, h, c.contrastiveDim, rng);
    this.fusion_contrastive_mlp = new ProjectionMLP(c.fusionHidden, c.fusionHidden, c.contrastiveDim, rng);
  }

  /** Names of the MLCS heads' parameters (dropped at inference and from exported checkpoints). */
  static isTrainingOnly(name: string): boolean {
    return /_contrastive_mlp\./.test(name);
  }

  /** Runs the head. `withEmbeddings` also returns the MLCS embeddings (training). */
  forward(x: CrabInput, withEmbeddings = this.training, withRepresentations = false, withAttention = false): CrabOutput {
    const c = this.config;
    const masked = c.maskPadding;
    const useSpeech = c.modalities !== 'text';
    const useText = c.modalities !== 'speech';
    const B = (useSpeech ? x.speech : x.text).shape[0]!;
    const Ts = x.speech.shape[1]!;
    const Tt = x.text.shape[1]!;
    const sLen = x.speechLengths ?? new Array(B).fill(Ts);
    const tLen = x.textLengths ?? new Array(B).fill(Tt);
    // Padding masks (1 = pad), built once on the host.
    const sPad = masked ? padMask(sLen, Ts) : null;
    const tPad = masked ? padMask(tLen, Tt) : null;

    // Per modality: Linear → LayerNorm → BiGRU.
    const speechIn = this.speech_layer_weights ? mixLayers(x.speech, this.speech_layer_weights) : x.speech;
    const textIn = this.text_layer_weights ? mixLayers(x.text, this.text_layer_weights) : x.text;
    const speechProj = useSpeech ? this.speech_norm!.forward(this.speech_projection!.forward(speechIn)) : null;
    const textProj = useText ? this.text_norm!.forward(this.text_projection!.forward(textIn)) : null;
    const S = speechProj ? this.speech_gru!.forward(speechProj, masked ? sLen : undefined).output : null;
    const X = textProj ? this.text_gru!.forward(textProj, masked ? tLen : undefined).output : null;

    // Cross-modal block: each modality attends to the other, added back residually.
    let speechFinal = S;
    let textFinal = X;
    let attention: CrabOutput['attention'];
    if (S && X && this.cross_modal) {
      [speechFinal, textFinal] = this.cross_modal.forward(S, X, sPad, tPad);
    } else if (S && X && withAttention) {
      const sa = this.speech_attention!.forward(S, X, X, tPad, true);
      const ta = this.text_attention!.forward(X, S, S, sPad, true);
      speechFinal = add(S, sa.out);
      textFinal = add(X, ta.out);
      attention = { speechToText: sa.weights, textToSpeech: ta.weights };
    } else if (S && X) {
      speechFinal = add(S, this.speech_attention!.forward(S, X, X, tPad));
      textFinal = add(X, this.text_attention!.forward(X, S, S, sPad));
    }

    // Attention pooling, fusion, classifier.
    const speechPooled = speechFinal ? this.pool(this.speech_attn!, speechFinal, sPad) : null;
    const textPooled = textFinal ? this.pool(this.text_attn!, textFinal, tPad) : null;
    const pooled = [speechPooled, textPooled].filter((t): t is Tensor => t !== null);
    const z = this.layer_norm.forward(pooled.length === 2 ? concat(pooled, 1) : pooled[0]!);
    const u = this.classifier_fc1.forward(z);
    const logits = this.classifier_fc2.forward(this.classifier_dropout.forward(relu(u)));

    const embeddings: CrabOutput['embeddings'] = {};
    if (withEmbeddings) {
      const layers = new Set(c.mlcsLayers);
      if (layers.has('speech_frame') && speechProj) embeddings.speech_frame = this.speech_contrastive_mlp!.forward(timeMean(speechProj, sLen, masked));
      if (layers.has('text_frame') && textProj) embeddings.text_frame = this.text_contrastive_mlp!.forward(timeMean(textProj, tLen, masked));
      if (layers.has('speech_pooled') && speechPooled) embeddings.speech_pooled = this.speech_pooled_contrastive_mlp!.forward(speechPooled);
      if (layers.has('text_pooled') && textPooled) embeddings.text_pooled = this.text_pooled_contrastive_mlp!.forward(textPooled);
      if (layers.has('fusion')) embeddings.fusion = this.fusion_contrastive_mlp.forward(u);
    }
    if (!withRepresentations) return { logits, embeddings, ...(attention ? { attention } : {}) };
    const representations: CrabOutput['representations'] = { fusion: u };
    if (speechProj) representations.speech_frame = timeMean(speechProj, sLen, masked);
    if (textProj) representations.text_frame = timeMean(textProj, tLen, masked);
    if (speechPooled) representations.speech_pooled = speechPooled;
    if (textPooled) representations.text_pooled = textPooled;
    return { logits, embeddings, representations, ...(attention ? { attention } : {}) };
  }

  /** Attention pooling: Σ_t softmax_t(score(Y_t)) · Y_t over valid steps. */
  private pool(score: Linear, Y: Tensor, pad: Tensor | null): Tensor {
    const [B, T, D] = Y.shape as [number, number, number];
    let s = score.forward(Y).reshape([B, 1, T]);
    if (pad) s = maskedFill(s, pad.reshape([B, 1, T]), -Infinity);
    return matmul(softmax(s), Y).reshape([B, D]);
  }

  /**
   * The training loss: class-weighted CE + λ · mean of the contrastive losses of the enabled
   * MLCS layers (exactly the authors' `CE + 2.0 · (ΣL)/5` for all five).
   */
  loss(out: CrabOutput, labels: Tensor, classWeight: Tensor | null): CrabLoss {
    const ce = crossEntropy(out.logits, labels, { weight: classWeight });
    const parts: CrabLoss['contrastive'] = {};
    const terms: Tensor[] = [];
    for (const layer of this.config.mlcsLayers) {
      const e = out.embeddings[layer];
      if (!e) continue;
      const l = contrastiveLoss(e, labels, { temperature: this.config.mlcsTemperature });
      parts[layer] = l;
      terms.push(l.reshape([1]));
    }
    if (!terms.length || this.config.mlcsLambda === 0) return { total: ce, ce, contrastive: parts };
    const con = scale(mean(concat(terms, 0)), this.config.mlcsLambda).reshape([]);
    return { total: add(ce, con), ce, contrastive: parts };
  }
}

/** Σ_l softmax(w)_l · x[:, :, l, :] for x [B, T, L, d]. */
export function mixLayers(x: Tensor, w: Tensor): Tensor {
  const L = w.shape[0]!;
  if (x.ndim !== 4 || x.shape[2] !== L) throw new Error(`crab: expected encoder states [B, T, ${L}, d] for a ${L}-layer weighted sum, got [${x.shape.join(', ')}]`);
  return sum(mul(x, softmax(w.reshape([1, L])).reshape([1, 1, L, 1])), 2);
}

/** [B, T] float mask, 1 at padded steps. */
function padMask(lengths: number[], T: number): Tensor {
  const m = new Float32Array(lengths.length * T);
  lengths.forEach((L, b) => m.fill(1, b * T + L, (b + 1) * T));
  return fromArray(m, [lengths.length, T]);
}

/** Mean over time, over valid steps only when `masked`. */
function timeMean(x: Tensor, lengths: number[], masked: boolean): Tensor {
  if (!masked) return mean(x, 1);
  const [B, T] = x.shape as [number, number];
  const valid = new Float32Array(B * T);
  lengths.forEach((L, b) => valid.fill(1, b * T, b * T + L));
  const s = sum(mul(x, fromArray(valid, [B, T, 1])), 1);
  return div(s, fromArray(lengths, [B, 1]));
}
