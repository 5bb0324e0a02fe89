/**
 * Training Crab on cached encoder features: batching with padding, AdamW with a cosine schedule
 * (floor, optional warm-up), gradient accumulation and clipping, evaluation every epoch, the
 * best checkpoint by a chosen metric, exact resume, Ctrl-C that saves, and a stop that names
 * the step and batch on a non-finite loss (the last good checkpoint is kept).
 * @module
 */
import { appendFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromArray, noGrad, tidy, scope, Rng, Tensor } from '../tensor/tensor.js';
import { argmax, classWeights, scale } from '../kernels/index.js';
import { Crab, type CrabConfig } from '../model/crab.js';
import { AdamW } from './optimizer.js';
import { cosineLr } from './schedule.js';
import { computeMetrics, type Metrics, type MetricName } from './metrics.js';
import { saveCheckpoint, loadCheckpoint, readState } from './checkpoint.js';
import { Progress } from './progress.js';
import type { FeatureItem, FeatureSet } from './features.js';

/** Training settings (defaults in {@link TRAIN_DEFAULTS}). */
export interface TrainConfig {
  /** Crab head settings (the encoder widths come from the features). */
  crab: Omit<CrabConfig, 'speechDim' | 'textDim' | 'numClasses'>;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Cosine schedule floor (absolute learning rate). */
  lrFloor: number;
  warmupSteps: number;
  /** Global-norm clipping (off when 0). */
  maxGradNorm: number;
  /** Micro-batches per optimizer step. */
  accumulation: number;
  /** Class-weighted CE with w_c = N/(C·n_c) from the training split. */
  classWeighting: boolean;
  bestMetric: MetricName;
  seed: number;
}

/** Defaults: the authors' recipe where it applies to a head trained on features. */
export const TRAIN_DEFAULTS: TrainConfig = {
  crab: {}, epochs: 20, batchSize: 32, lr: 1e-3, weightDecay: 0.01, lrFloor: 1e-6, warmupSteps: 0, maxGradNorm: 0,
  accumulation: 1, classWeighting: true, bestMetric: 'macroF1', seed: 42,
};

/** What one epoch recorded. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  dev: Metrics;
  lr: number;
  seconds: number;
}

/** The state written with each checkpoint. */
export interface TrainState {
  config: TrainConfig;
  labels: string[];
  speechDim: number;
  textDim: number;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  rng: number[];
  best: { metric: MetricName; value: number; epoch: number } | null;
  history: EpochRecord[];
  /** Which encoders made the features (what `crab predict` rebuilds). */
  encoders?: EncoderSpec;
}

/** The encoders behind a run's features. */
export type EncoderSpec =
  | { kind: 'synthetic'; condition: 'acted' | 'natural'; size: number }
  | { kind: 'hf'; wavlm: string; roberta: string; maxSeconds: number; normalize: boolean };

/** Options of {@link train}. */
export interface TrainOptions {
  /** Folder for checkpoints (`last/`, `best/`), `log.jsonl`. */
  runDir: string;
  resume?: boolean;
  /** Quiet: no progress lines. */
  quiet?: boolean;
  /** Stop after this many global steps, saving exactly as Ctrl-C does (for scripted resumes). */
  stopAfterSteps?: number;
  /** Recorded in the checkpoints for `crab predict`. */
  encoders?: EncoderSpec;
}

/** A padded batch as tensors. */
export function makeBatch(items: FeatureItem[], speechDim: number, textDim: number): { speech: Tensor; text: Tensor; speechLengths: number[]; textLengths: number[]; labels: Tensor } {
  const B = items.length;
  const Ts = Math.max(...items.map((i) => i.speechLen));
  const Tt = Math.max(...items.map((i) => i.textLen));
  const s = new Float32Array(B * Ts * speechDim);
  const t = new Float32Array(B * Tt * textDim);
  items.forEach((it, b) => {
    s.set(it.speech, b * Ts * speechDim);
    t.set(it.text, b * Tt * textDim);
  });
  return {
    speech: fromArray(s, [B, Ts, speechDim]), text: fromArray(t, [B, Tt, textDim]),
    speechLengths: items.map((i) => i.speechLen), textLengths: items.map((i) => i.textLen),
    labels: fromArray(items.map((i) => i.label), [B], 'i32'),
  };
}

/** Evaluates the head on items (eval mode, no gradients). */
export async function evaluate(crab: Crab, items: FeatureItem[], speechDim: number, textDim: number, C: number, batchSize = 64): Promise<{ metrics: Metrics; preds: number[]; probs: Float32Array[] }> {
  const was = crab.training;
  crab.eval();
  const preds: number[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = items.slice(i, i + batchSize);
    const p = await scope(async () => {
      const idx = noGrad(() => argmax(crab.forward(makeBatch(batch, speechDim, textDim), false).logits, -1));
      return Array.from(await idx.toArray());
    });
    preds.push(...p);
  }
  crab.train(was);
  return { metrics: computeMetrics(items.map((i) => i.label), preds, C), preds, probs: [] };
}

/** Trains Crab on `features`' train split, evaluating on dev each epoch. */
export async function train(features: FeatureSet, labels: string[], cfgIn: Partial<TrainConfig>, o: TrainOptions): Promise<TrainState> {
  mkdirSync(o.runDir, { recursive: true });
  const lastDir = join(o.runDir, 'last');
  let state: TrainState;
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, ...cfgIn, crab: { ...TRAIN_DEFAULTS.crab, ...cfgIn.crab } };
  const trainItems = features.items.filter((i) => i.split === 'train');
  const devItems = features.items.filter((i) => i.split === 'dev');
  if (!trainItems.length) throw new Error('train: the training split is empty');
  if (!devItems.length) throw new Error('train: the dev split is empty (needed for evaluation and the best checkpoint)');
  const C = labels.length;
  const crab = new Crab({ ...cfg.crab, speechDim: features.speechDim, textDim: features.textDim, numClasses: C }, cfg.seed);
  const head = crab.parameters();
  const opt = new AdamW([{ params: head, lr: cfg.lr, name: 'head' }], { weightDecay: cfg.weightDecay, maxGradNorm: cfg.maxGradNorm || undefined });
  if (o.resume && existsSync(join(lastDir, 'state.json'))) {
    state = readState<TrainState>(lastDir);
    loadCheckpoint(lastDir, crab, opt);
    crab._rng.state = state.rng;
  } else {
    state = { config: cfg, labels, speechDim: features.speechDim, textDim: features.textDim, epoch: 0, stepInEpoch: 0, globalStep: 0, rng: crab._rng.state, best: null, history: [], encoders: o.encoders };
  }
  const weights = cfg.classWeighting ? fromArray(classWeights(trainItems.map((i) => i.label), C, { names: labels })) : null;
  const stepsPerEpoch = Math.ceil(trainItems.length / cfg.batchSize);
  const totalSteps = Math.ceil((stepsPerEpoch * cfg.epochs) / cfg.accumulation);
  const log = (rec: object): void => appendFileSync(join(o.runDir, 'log.jsonl'), `${JSON.stringify(rec)}\n`);
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    for (let epoch = state.epoch; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      crab.train();
      // The order of an epoch depends only on (seed, epoch), so a resumed run sees the same batches.
      const order = shuffle(trainItems.length, new Rng(cfg.seed * 1000003 + epoch));
      const bar = o.quiet ? null : new Progress(`epoch ${epoch + 1}/${cfg.epochs}`, stepsPerEpoch);
      let lossSum = 0;
      let lossN = 0;
      for (let s = state.stepInEpoch; s < stepsPerEpoch; s++) {
        const batch = order.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize).map((k) => trainItems[k]!);
        const loss = await scope(async () => {
          const l = tidy(() => {
            const b = makeBatch(batch, features.speechDim, features.textDim);
            const out = crab.forward(b, true);
            const parts = crab.loss(out, b.labels, weights);
            const total = cfg.accumulation > 1 ? scale(parts.total, 1 / cfg.accumulation) : parts.total;
            total.backward();
            return parts.total;
          });
          return l.item();
        });
        if (!Number.isFinite(loss)) {
          throw new Error(`train: non-finite loss (${loss}) at epoch ${epoch + 1}, step ${s + 1} (global step ${state.globalStep + 1}), batch items ${batch.map((i) => i.id).join(', ')}. ` +
            `The last good checkpoint is in ${lastDir}. Try a lower learning rate or --max-grad-norm.`);
        }
        if ((s + 1) % cfg.accumulation === 0 || s === stepsPerEpoch - 1) {
          const lr = cosineLr(cfg.lr, Math.floor(state.globalStep / cfg.accumulation), { total: totalSteps, warmup: cfg.warmupSteps, floor: cfg.lrFloor });
          opt.setLrFactor(lr / cfg.lr);
          opt.step();
          opt.zeroGrad();
        }
        state.globalStep++;
        state.stepInEpoch = s + 1;
        lossSum += loss;
        lossN++;
        bar?.update(s + 1, { loss, lr: opt.groups[0]!.currentLr });
        log({ type: 'step', epoch: epoch + 1, step: state.globalStep, loss, lr: opt.groups[0]!.currentLr });
        if (interrupted || state.globalStep === o.stopAfterSteps) {
          state.rng = crab._rng.state;
          state.epoch = epoch;
          await saveCheckpoint(lastDir, crab, opt, state);
          throw new InterruptedError(`interrupted: saved to ${lastDir}; continue with --resume`);
        }
      }
      const dev = (await evaluate(crab, devItems, features.speechDim, features.textDim, C)).metrics;
      const rec: EpochRecord = { epoch: epoch + 1, trainLoss: lossN ? lossSum / lossN : NaN, dev, lr: opt.groups[0]!.currentLr, seconds: (performance.now() - t0) / 1000 };
      state.history.push(rec);
      log({ type: 'epoch', ...rec });
      if (!o.quiet) process.stderr.write(`epoch ${epoch + 1}: train loss ${rec.trainLoss.toFixed(4)}  dev WA ${(100 * dev.accuracy).toFixed(1)}  UA ${(100 * dev.uar).toFixed(1)}  macro-F1 ${(100 * dev.macroF1).toFixed(1)}\n`);
      state.epoch = epoch + 1;
      state.stepInEpoch = 0;
      state.rng = crab._rng.state;
      const value = dev[cfg.bestMetric];
      if (!state.best || value > state.best.value) {
        state.best = { metric: cfg.bestMetric, value, epoch: epoch + 1 };
        await saveCheckpoint(join(o.runDir, 'best'), crab, null, state, Crab.isTrainingOnly);
      }
      await saveCheckpoint(lastDir, crab, opt, state);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  return state;
}

/** Thrown when Ctrl-C stopped training after saving. */
export class InterruptedError extends Error {}

function shuffle(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Loads the best checkpoint of a run for evaluation or prediction. */
export function loadBest(runDir: string): { crab: Crab; state: TrainState } {
  const dir = join(runDir, 'best');
  const state = readState<TrainState>(dir);
  const crab = new Crab({ ...state.config.crab, speechDim: state.speechDim, textDim: state.textDim, numClasses: state.labels.length, mlcsLayers: [] }, state.config.seed);
  loadCheckpoint(dir, crab);
  return { crab: crab.eval(), state };
}
