/**
 * A trained run folder, reloaded: its best checkpoint with the encoders that make its input (the
 * synthetic tiny ones or the Hugging Face checkpoints it was trained on; their fine-tuned weights
 * for a fine-tuned run), scored on utterances or used to classify one.
 * @module
 */
import { join } from 'node:path';
import type { Crab } from '../model/crab.js';
import { CrabWithEncoders } from '../model/crab_encoders.js';
import { extractFeatures } from '../data/features.js';
import { encodersFor, type Encoders } from '../data/encoders.js';
import type { Utterance } from '../data/utterance.js';
import { headFor, resolveTrainConfig, loadBest, evaluate, type TrainState } from './trainer.js';
import { readState, loadCheckpoint } from './run_checkpoint.js';
import type { Metrics } from './metrics.js';
import { predictAudio, type Prediction } from './predict.js';
import { loadForModel } from '../audio/audio.js';

/** A trained run, ready for inference: the head and the encoders that make its input. */
export interface LoadedRun {
  crab: Crab;
  state: TrainState;
  /** The run's encoders: fine-tuned weights for a fine-tuned run, else the recorded frozen ones. */
  encoders: Encoders | null;
}

/**
 * Loads the best checkpoint of any run. `withEncoders: false` skips building the frozen
 * encoders of a head-only run (enough for its cached features).
 */
export function loadRun(runDir: string, withEncoders = true): LoadedRun {
  const dir = join(runDir, 'best');
  const state = readState<TrainState>(dir);
  if (!state.config.finetune) {
    const { crab } = loadBest(runDir);
    return { crab, state, encoders: withEncoders && state.encoders ? encodersFor(state.encoders) : null };
  }
  if (!state.encoders) throw new Error(`${runDir}: the checkpoint does not record its encoders; retrain it`);
  const encoders = encodersFor(state.encoders);
  const crab = headFor(resolveTrainConfig(state.config), state, state.labels.length, true);
  const model = new CrabWithEncoders(encoders.wavlm, encoders.roberta, crab);
  loadCheckpoint(dir, model);
  model.eval();
  return { crab, state, encoders };
}

/**
 * Scores a loaded run on utterances: features from the run's own encoders (computed here, not
 * cached: a fine-tuned run's encoders are its own), then the head. Unreadable audio is skipped
 * and reported through `onSkip`.
 */
export async function evaluateRun(run: LoadedRun, utts: Utterance[], onSkip?: (u: Utterance, reason: string) => void): Promise<Metrics> {
  const enc = run.encoders;
  if (!enc) throw new Error('evaluateRun: the run was loaded without its encoders');
  const f = await extractFeatures(utts, enc.wavlm, enc.roberta, enc.tokenizer, {
    maxSeconds: enc.maxSeconds, normalize: enc.normalize, allLayers: (run.state.speechLayers ?? 1) > 1, onSkip,
  });
  return (await evaluate(run.crab, f.items, f, run.state.labels.length)).metrics;
}

export type { Prediction } from './predict.js';

/** Classifies one audio file (and transcript) with the best checkpoint of `runDir`. */
export async function predictOne(runDir: string, audioPath: string, text: string): Promise<Prediction> {
  const { crab, state, encoders } = loadRun(runDir);
  if (!encoders) throw new Error(`${runDir}: the checkpoint does not record its encoders (trained by an older version); retrain to predict`);
  const audio = await loadForModel(audioPath, { maxSeconds: encoders.maxSeconds, normalize: encoders.normalize });
  return predictAudio(crab, state.labels, encoders, audio, text, (state.speechLayers ?? 1) > 1, audioPath);
}
