/**
 * The encoders behind a corpus' features: the demo's tiny random-init WavLM and RoBERTa for the
 * synthetic corpus (the same model code as the real ones), or pretrained Hugging Face
 * checkpoints; and the spec a run records to rebuild them.
 * @module
 */
import type { WavLMModel } from '../model/wavlm.js';
import type { RobertaModel } from '../model/roberta.js';
import { loadWavLM, loadRoberta } from '../model/pretrained.js';
import { syntheticEncoders, type EncoderOverrides } from './synthetic_encoders.js';

export { SYNTH_SEED } from './synthetic.js';
import type { Utterance } from './utterance.js';

/** The encoders behind a run's features. */
export type EncoderSpec =
  | { kind: 'synthetic'; condition: 'acted' | 'natural'; size: number }
  | { kind: 'hf'; wavlm: string; roberta: string; maxSeconds: number; normalize: boolean };

export { tinyWavLMConfig, tinyRobertaConfig, syntheticEncoders, ENCODER_SEED, type EncoderOverrides } from './synthetic_encoders.js';

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


