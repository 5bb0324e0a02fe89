/**
 * The demo's encoders, with no file system: tiny random-init WavLM and RoBERTa (the same model
 * code as the real ones) seeded once, and the word vocabulary of the synthetic corpus — what a
 * synthetic run's features come from, in Node or in a page.
 * @module
 */
import { WavLMModel, WAVLM_DEFAULTS, type WavLMConfig } from '../model/wavlm.js';
import { RobertaModel, ROBERTA_DEFAULTS, type RobertaConfig } from '../model/roberta.js';
import { syntheticCorpus, WordVocab, SYNTH_SEED, type SyntheticOptions } from './synthetic.js';

/** Settings over the encoders' configs (fine-tuning's dropout and masking). */
export interface EncoderOverrides {
  wavlm?: Partial<WavLMConfig>;
  roberta?: Partial<RobertaConfig>;
}

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
