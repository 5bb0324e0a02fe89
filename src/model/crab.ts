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
 * @module
 */
import { Tensor, Rng, fromArray } from '../tensor/tensor.js';
import {
  add, mul, relu, softmax, matmul, concat, sum, div, maskedFill, crossEntropy, contrastiveLoss, mean, scale,
} from '../kernels/index.js';
import { Module, Linear, LayerNorm, Dropout } from './module.js';
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
}

/** Config with every default filled in. */
export type ResolvedCrabConfig = Required<CrabConfig>;

/** Fills in the authors' defaults. */
export function resolveCrabConfig(c: CrabConfig): ResolvedCrabConfig {
  return {
    hidden: 512, fusionHidden: 512, contrastiveDim: 512, attentionHeads: 1, attentionDropout: 0.5, classifierDropout: 0.5,
    maskPadding: true, mlcsLayers: [...MLCS_LAYERS], mlcsLambda: 2.0, mlcsTemperature: 0.1, modalities: 'both', ...c,
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

/** A batch for the head: encoder outputs and their valid lengths. */
export interface CrabInput {
  /** Speech features [B, T_s, d_s]. */
  speech: Tensor;
  /** Text features [B, T_t, d_t]. */
  text: Tensor;
  /** Valid frames / tokens per item (default: all). */
  speechLengths?: number[];
  textLengths?: number[];
}

/** What the head computes: logits and (when asked) the five MLCS embeddings. */
export interface CrabOutput {
  logits: Tensor;
  embeddings: Partial<Record<MlcsLayer, Tensor>>;
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
  speech_projection?: Linear;
  speech_norm?: LayerNorm;
  speech_gru?: BiGRU;
  text_projection?: Linear;
  text_norm?: LayerNorm;
  text_gru?: BiGRU;
  speech_attention?: MultiheadAttention;
  text_attention?: MultiheadAttention;
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
    if (both) {
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
  forward(x: CrabInput, withEmbeddings = this.training): CrabOutput {
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
    const speechProj = useSpeech ? this.speech_norm!.forward(this.speech_projection!.forward(x.speech)) : null;
    const textProj = useText ? this.text_norm!.forward(this.text_projection!.forward(x.text)) : null;
    const S = speechProj ? this.speech_gru!.forward(speechProj, masked ? sLen : undefined).output : null;
    const X = textProj ? this.text_gru!.forward(textProj, masked ? tLen : undefined).output : null;

    // Cross-modal block: each modality attends to the other, added back residually.
    let speechFinal = S;
    let textFinal = X;
    if (S && X) {
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
    return { logits, embeddings };
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
