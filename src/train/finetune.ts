/**
 * End-to-end fine-tuning: the Crab head trained together with WavLM and RoBERTa on raw audio and
 * text (the encoders at `encoderLrScale` × the head's learning rate, WavLM's conv encoder
 * frozen), and loading any run back — head-only or fine-tuned — with the encoders it needs.
 * Fine-tuning is what the paper does; on a CPU adapter it is slow, which is why the feature
 * cache ({@link train}) is the default.
 * @module
 */
import { join } from 'node:path';
import type { WavLMModel } from '../model/wavlm.js';
import type { RobertaModel } from '../model/roberta.js';
import type { Crab } from '../model/crab.js';
import { CrabWithEncoders } from '../model/crab_encoders.js';
import { loadForModel } from '../audio/audio.js';
import { fit, headFor, resolveTrainConfig, loadBest, type TrainConfig, type TrainOptions, type TrainState, type TrainTask, type EncoderSpec } from './trainer.js';
import { readState, loadCheckpoint } from './checkpoint.js';
import { syntheticEncoders } from './demo.js';
import { loadWavLM } from './embed.js';
import { loadRoberta } from './corpus.js';
import { extractFeatures, tokenize, encoderDims } from './features.js';
import { evaluate } from './trainer.js';
import type { Metrics } from './metrics.js';
import type { Utterance } from './synthetic.js';

/** Encoders with the tokenizer and audio settings they expect. */
export interface Encoders {
  wavlm: WavLMModel;
  roberta: RobertaModel;
  tokenizer: { encode(text: string): number[] };
  maxSeconds: number;
  normalize: boolean;
}

/** An utterance with its token ids (audio is read per batch when it is a file). */
export type RawItem = Utterance & { ids: number[] };

/**
 * Builds the encoders a run was trained with, from its recorded spec (pretrained weights); for
 * the synthetic corpus also its utterances (the tokenizer is built from them).
 */
export function encodersFor(spec: EncoderSpec): Encoders & { utts?: Utterance[] } {
  if (spec.kind === 'synthetic') {
    const e = syntheticEncoders(spec.condition, spec.size);
    return { wavlm: e.wavlm, roberta: e.roberta, tokenizer: e.vocab, maxSeconds: 12, normalize: false, utts: e.utts };
  }
  const r = loadRoberta(spec.roberta);
  return { wavlm: loadWavLM(spec.wavlm), roberta: r.model, tokenizer: { encode: (t) => r.tokenizer.encode(t) }, maxSeconds: spec.maxSeconds, normalize: spec.normalize };
}

function audioOf(u: Utterance, enc: Encoders): Float32Array {
  if (u.audio) return u.audio;
  try {
    return loadForModel(u.audioPath ?? '(no path)', { maxSeconds: enc.maxSeconds, normalize: enc.normalize });
  } catch (e) {
    throw new Error(`utterance ${u.id}: ${(e as Error).message}. Fine-tuning reads audio every epoch; find unreadable files with \`crab data check\` and fix or drop them.`);
  }
}

/**
 * Trains Crab with its encoders end to end. Parameter groups: `head` at `lr`, `encoders` at
 * `lr · encoderLrScale`; WavLM's conv feature encoder is frozen. The checkpoints hold
 * `wavlm.*`, `roberta.*` and `crab.*`.
 */
export async function trainEndToEnd(utts: Utterance[], labels: string[], cfgIn: Partial<TrainConfig>, o: TrainOptions, enc: Encoders): Promise<TrainState> {
  const cfg = resolveTrainConfig({ ...cfgIn, finetune: true });
  const dims = encoderDims(enc.wavlm, enc.roberta, cfg.layerWeightedSum);
  const crab = headFor(cfg, dims, labels.length);
  const model = new CrabWithEncoders(enc.wavlm, enc.roberta, crab);
  const items: RawItem[] = utts.map((u) => ({ ...u, ids: tokenize(enc.tokenizer, u.text) }));
  const task: TrainTask<RawItem> = {
    module: model, crab, dims,
    groups: [
      { params: crab.parameters(), lr: cfg.lr, name: 'head' },
      { params: [...enc.wavlm.parameters(), ...enc.roberta.parameters()], lr: cfg.lr * cfg.encoderLrScale, name: 'encoders' },
    ],
    rngs: [crab._rng, enc.wavlm._rng, enc.roberta._rng],
    input: (batch) => model.input(batch.map((u) => ({ audio: audioOf(u, enc), ids: u.ids }))),
  };
  return fit(task, items, labels, cfg, o);
}

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
