/**
 * Crab with its encoders: waveform → WavLM and token ids → RoBERTa → the Crab head, one module
 * whose parameter names are `wavlm.*`, `roberta.*` and `crab.*`. Fine-tuning trains all of it
 * (WavLM's conv encoder frozen); the feature cache runs {@link encoderStates} once, frozen.
 * @module
 */
import { Tensor, fromArray } from '../tensor/tensor.js';
import { concat } from '../kernels/index.js';
import { Module } from './module.js';
import type { WavLMModel } from './wavlm.js';
import type { RobertaModel } from './roberta.js';
import type { Crab, CrabInput, CrabOutput } from './crab.js';

/** One utterance for the encoders: 16 kHz samples and token ids (`<s> … </s>`). */
export interface EncoderItem {
  audio: Float32Array;
  ids: number[];
}

/**
 * Pads a batch, runs both encoders and returns the head's input: the last hidden states
 * [B, T, d], or with `allLayers` every hidden state stacked as [B, T, L, d] (L = layers + 1,
 * the embedding output first, as Hugging Face's `hidden_states`).
 */
export function encoderStates(wavlm: WavLMModel, roberta: RobertaModel, items: EncoderItem[], allLayers: boolean | { speech: boolean; text: boolean } = false): CrabInput {
  const all = typeof allLayers === 'boolean' ? { speech: allLayers, text: allLayers } : allLayers;
  const B = items.length;
  const S = Math.max(...items.map((u) => u.audio.length));
  const wave = new Float32Array(B * S);
  items.forEach((u, b) => wave.set(u.audio, b * S));
  const T = Math.max(...items.map((u) => u.ids.length));
  const ids = new Int32Array(B * T).fill(roberta.config.pad_token_id);
  const mask = new Int32Array(B * T);
  items.forEach((u, b) => {
    ids.set(u.ids, b * T);
    mask.fill(1, b * T, b * T + u.ids.length);
  });
  const w = wavlm.forward(fromArray(wave, [B, S]), items.map((u) => u.audio.length), all.speech);
  const r = roberta.forward(fromArray(ids, [B, T], 'i32'), mask, all.text);
  return {
    speech: all.speech ? stack(w.hiddenStates!) : w.lastHiddenState,
    text: all.text ? stack(r.hiddenStates!) : r.lastHiddenState,
    speechLengths: w.frameLengths, textLengths: items.map((u) => u.ids.length),
  };
}

/** [B, T, d] × L → [B, T, L, d]. */
function stack(hs: Tensor[]): Tensor {
  const [B, T, d] = hs[0]!.shape as [number, number, number];
  return concat(hs.map((h) => h.reshape([B, T, 1, d])), 2);
}

/** The Crab head on top of WavLM and RoBERTa, trained end to end. */
export class CrabWithEncoders extends Module {
  constructor(public wavlm: WavLMModel, public roberta: RobertaModel, public crab: Crab) {
    super();
    // The usual fine-tuning set-up: the conv feature encoder keeps its pretrained filters.
    wavlm.freezeFeatureEncoder();
  }

  /** The head's input for a batch (with gradients into the encoders in training mode). */
  input(items: EncoderItem[]): CrabInput {
    const c = this.crab.config;
    return encoderStates(this.wavlm, this.roberta, items, { speech: c.speechLayers > 1, text: c.textLayers > 1 });
  }

  forward(items: EncoderItem[], withEmbeddings = this.training): CrabOutput {
    return this.crab.forward(this.input(items), withEmbeddings);
  }
}
