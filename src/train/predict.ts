/**
 * One utterance through a trained run, with no file system (Node's `crab predict` and the web
 * app share it): the run's head and encoders built from its checkpoint's parsed files, the audio
 * as the encoders take it, the class probabilities.
 * @module
 */
import { noGrad, scope } from '../tensor/tensor.js';
import { softmax } from '../kernels/index.js';
import { Crab } from '../model/crab.js';
import { CrabWithEncoders, encoderStates } from '../model/crab_encoders.js';
import type { SafetensorsFile } from '../model/safetensors_core.js';
import type { ModelFiles } from '../model/model_files.js';
import { wavlmFromFiles, robertaFromFiles } from '../model/load.js';
import type { WavLMModel } from '../model/wavlm.js';
import type { RobertaModel } from '../model/roberta.js';
import { syntheticEncoders } from '../data/synthetic_encoders.js';
import { headFor, resolveTrainConfig, type TrainConfig } from './loop.js';
import type { FeatureDims } from '../data/features.js';
import { tokenize, type TextEncoder_ } from '../data/tokens.js';

/** The predicted label and every class' probability. */
export interface Prediction {
  label: string;
  probabilities: Record<string, number>;
  /**
   * With `withAttention` (the authors' cross-attention block, both modalities): how each speech
   * frame (20 ms) attends over the tokens, averaged over heads, [frames][tokens].
   */
  attention?: number[][];
}

/** Encoders as a run uses them: the models, the tokenizer and the audio settings. */
export interface RunEncoders {
  wavlm: WavLMModel;
  roberta: RobertaModel;
  tokenizer: TextEncoder_;
  maxSeconds: number;
  normalize: boolean;
}

/** What a checkpoint's state.json holds that inference needs. */
export interface RunStateLike extends FeatureDims {
  config: TrainConfig;
  labels: string[];
  encoders?: { kind: 'synthetic'; condition: 'acted' | 'natural'; size: number } | { kind: 'hf'; wavlm: string; roberta: string; maxSeconds: number; normalize: boolean };
}

/**
 * A run from its best checkpoint's files: `state` (state.json), `model` (model.safetensors,
 * parsed) and, for a run on Hugging Face encoders, their folders' files. A fine-tuned run's
 * checkpoint holds its encoders' weights too; they replace the pretrained ones.
 */
export function runFromFiles(state: RunStateLike, model: SafetensorsFile, encoderFiles: { wavlm?: ModelFiles; roberta?: ModelFiles } = {}): { crab: Crab; encoders: RunEncoders } {
  const spec = state.encoders;
  if (!spec) throw new Error('the checkpoint does not record its encoders (trained by an older version); retrain to predict');
  let encoders: RunEncoders;
  if (spec.kind === 'synthetic') {
    const e = syntheticEncoders(spec.condition, spec.size);
    encoders = { wavlm: e.wavlm, roberta: e.roberta, tokenizer: e.vocab, maxSeconds: 12, normalize: false };
  } else {
    if (!encoderFiles.wavlm || !encoderFiles.roberta) throw new Error(`this run reads Hugging Face encoders (${spec.wavlm}, ${spec.roberta}): give their files`);
    const r = robertaFromFiles(encoderFiles.roberta);
    encoders = { wavlm: wavlmFromFiles(encoderFiles.wavlm), roberta: r.model, tokenizer: r.tokenizer, maxSeconds: spec.maxSeconds, normalize: spec.normalize };
  }
  const crab = headFor(resolveTrainConfig(state.config), state, state.labels.length, true);
  const target = state.config.finetune ? new CrabWithEncoders(encoders.wavlm, encoders.roberta, crab) : crab;
  const r = target.loadFrom({ has: (n) => model.entries.has(n), shape: (n) => model.shape(n), get: (n) => model.float32(n), names: () => model.names() });
  // The MLCS projection heads train only; best/ checkpoints leave them out.
  const missing = r.missing.filter((n) => !Crab.isTrainingOnly(n));
  if (missing.length) throw new Error(`${model.path}: the checkpoint lacks ${missing.length} tensor(s) the model needs: ${missing.slice(0, 5).join(', ')}`);
  if (r.unexpected.length) throw new Error(`${model.path}: checkpoint tensors that the model does not have: ${r.unexpected.slice(0, 5).join(', ')}`);
  target.eval();
  encoders.wavlm.eval();
  encoders.roberta.eval();
  return { crab, encoders };
}

/**
 * Classifies one utterance: `audio` at 16 kHz as the encoders take it (see `prepareAudio`), and
 * its transcript, through the run's encoders and head.
 */
export async function predictAudio(crab: Crab, labels: string[], enc: RunEncoders, audio: Float32Array, text: string, allLayers: boolean, name = 'audio', withAttention = false): Promise<Prediction> {
  if (audio.length < 400) throw new Error(`${name}: shorter than one WavLM frame`);
  const { probs, attention } = await scope(async () => {
    const out = noGrad(() => crab.forward(encoderStates(enc.wavlm, enc.roberta, [{ audio, ids: tokenize(enc.tokenizer, text) }], allLayers), false, false, withAttention));
    const p = noGrad(() => softmax(out.logits));
    const a = out.attention?.speechToText;
    const [pv, av] = [Array.from(await p.toArray()), a ? Array.from(await a.toArray()) : null];
    const Tt = a?.shape[2] ?? 0;
    return { probs: pv, attention: av && Tt ? Array.from({ length: av.length / Tt }, (_, t) => av.slice(t * Tt, (t + 1) * Tt)) : undefined };
  });
  const best = probs.indexOf(Math.max(...probs));
  return { label: labels[best]!, probabilities: Object.fromEntries(labels.map((l, i) => [l, probs[i]!])), ...(attention ? { attention } : {}) };
}
