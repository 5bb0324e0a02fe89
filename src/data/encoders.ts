/**
 * The encoders behind a corpus' features: the demo's tiny random-init WavLM and RoBERTa for the
 * synthetic corpus (the same model code as the real ones), or pretrained Hugging Face
 * checkpoints; and the spec a run records to rebuild them.
 * @module
 */
import { WavLMModel, WAVLM_DEFAULTS, type WavLMConfig } from '../model/wavlm.js';
import { RobertaModel, ROBERTA_DEFAULTS, type RobertaConfig } from '../model/roberta.js';
import { loadWavLM, loadRoberta } from '../model/pretrained.js';
import { syntheticCorpus, WordVocab, SYNTH_SEED, type SyntheticOptions } from './synthetic.js';

export { SYNTH_SEED } from './synthetic.js';
import type { Utterance } from './utterance.js';

/** The encoders behind a run's features. */
export type EncoderSpec =
  | { kind: 'synthetic'; condition: 'acted' | 'natural'; size: number }
  | { kind: 'hf'; wavlm: string; roberta: string; maxSeconds: number; normalize: boolean };

/** Tiny encoder configs for the demo (same code paths as wavlm-large / roberta-base). */
export function tinyWavLMConfig(): WavLMConfig {
  return {
    ...WAVLM_DEFAULTS, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
    conv_dim: [64, 64, 64, 64, 64, 64, 64], feat_extract_norm: 'layer', do_stable_layer_norm: true,
    hidden_dropout: 0, attention_dropout: 0, feat_proj_dropout: 0, layerdrop: 0,
  };
}
export function tinyRobertaConfig(vocabSize: number): RobertaConfig {
  return { ...ROBERTA_DEFAULTS, vocab_size: vocabSize, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, max_position_embeddings: 66, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
}

/** The demo's frozen encoders and word vocabulary for a synthetic corpus. */
export function syntheticEncoders(condition: SyntheticOptions['condition'], size: number, overrides: EncoderOverrides = {}): { wavlm: WavLMModel; roberta: RobertaModel; vocab: WordVocab; utts: ReturnType<typeof syntheticCorpus> } {
  const utts = syntheticCorpus({ condition, size, seed: SYNTH_SEED });
  const vocab = new WordVocab(utts.map((u) => u.text));
  return {
    wavlm: new WavLMModel({ ...tinyWavLMConfig(), ...overrides.wavlm }, ENCODER_SEED),
    roberta: new RobertaModel({ ...tinyRobertaConfig(vocab.size), ...overrides.roberta }, ENCODER_SEED + 1), vocab, utts,
  };
}
/** The tiny encoders' seed (part of the feature cache key). */
export const ENCODER_SEED = 7;

/** Encoders with the tokenizer and audio settings they expect. */
export interface Encoders {
  wavlm: WavLMModel;
  roberta: RobertaModel;
  tokenizer: { encode(text: string): number[] };
  maxSeconds: number;
  normalize: boolean;
}

/**
 * Builds the encoders a run was trained with, from its recorded spec (pretrained weights); for
 * the synthetic corpus also its utterances (the tokenizer is built from them).
 */
export function encodersFor(spec: EncoderSpec, overrides: EncoderOverrides = {}): Encoders & { utts?: Utterance[] } {
  if (spec.kind === 'synthetic') {
    const e = syntheticEncoders(spec.condition, spec.size, overrides);
    return { wavlm: e.wavlm, roberta: e.roberta, tokenizer: e.vocab, maxSeconds: 12, normalize: false, utts: e.utts };
  }
  const r = loadRoberta(spec.roberta, overrides.roberta);
  return { wavlm: loadWavLM(spec.wavlm, overrides.wavlm), roberta: r.model, tokenizer: { encode: (t) => r.tokenizer.encode(t) }, maxSeconds: spec.maxSeconds, normalize: spec.normalize };
}

/** Settings over the encoders' configs (fine-tuning's dropout and masking). */
export interface EncoderOverrides {
  wavlm?: Partial<WavLMConfig>;
  roberta?: Partial<RobertaConfig>;
}

