/**
 * The platform-neutral core of training (no file system, no process): the settings, what a task
 * is, one training step (forward, loss, backward) and one optimizer update, the order of an
 * epoch, evaluation, and {@link trainHead}, an in-memory loop for the Crab head — what a browser
 * tab runs. The Node loop with run folders, checkpoints and resume (`fit` in trainer.ts) is built
 * from the same step functions, so both compute the same losses.
 * @module
 */
import { fromArray, noGrad, tidy, scope, keep, readAll, Rng, type Tensor } from '../tensor/tensor.js';
import { argmax, classWeights, scale, concat } from '../kernels/index.js';
import { backward } from '../kernels/autograd.js';
import { Crab, MLCS_LAYERS, type CrabConfig, type CrabInput } from '../model/crab.js';
import type { Module } from '../model/module.js';
import type { WavLMConfig } from '../model/wavlm.js';
import type { RobertaConfig } from '../model/roberta.js';
import { AdamW, type ParamGroup } from './optimizer.js';
import { cosineLr } from './schedule.js';
import { computeMetrics, type Metrics, type MetricName } from './metrics.js';
import type { FeatureItem, FeatureSet, FeatureDims } from '../data/features.js';
import { makeBatch } from '../data/batch.js';

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
  /** Feed Crab a learned softmax-weighted sum of every encoder hidden state (off: the last one). */
  layerWeightedSum: boolean;
  /** Train the encoders with the head (WavLM's conv encoder stays frozen); off: a frozen feature cache. */
  finetune: boolean;
  /** Encoders' learning rate as a fraction of the head's (0.1). */
  encoderLrScale: number;
  /** Fine-tuning: the encoders' dropout and masking settings over their config.json (HF names). */
  encoders: { wavlm?: Partial<Pick<WavLMConfig, WavLMTrainingKey>>; roberta?: Partial<Pick<RobertaConfig, 'hidden_dropout_prob' | 'attention_probs_dropout_prob'>> };
}

/** The WavLM settings fine-tuning may override. */
export type WavLMTrainingKey = 'hidden_dropout' | 'attention_dropout' | 'activation_dropout' | 'feat_proj_dropout' | 'layerdrop' | 'mask_time_prob' | 'mask_time_length' | 'mask_feature_prob' | 'mask_feature_length';

/** Defaults: the authors' recipe where it applies to a head trained on features. */
export const TRAIN_DEFAULTS: TrainConfig = {
  crab: {}, epochs: 20, batchSize: 32, lr: 1e-3, weightDecay: 0.01, lrFloor: 1e-6, warmupSteps: 0, maxGradNorm: 0,
  accumulation: 1, classWeighting: true, bestMetric: 'macroF1', seed: 42, layerWeightedSum: false, finetune: false, encoderLrScale: 0.1, encoders: {},
};

/** Defaults filled in, the head settings merged. */
export function resolveTrainConfig(c: Partial<TrainConfig>): TrainConfig {
  return { ...TRAIN_DEFAULTS, ...c, crab: { ...TRAIN_DEFAULTS.crab, ...c.crab }, encoders: { ...c.encoders } };
}

/** Anything trained on: an utterance id, its label index and split. */
export interface Example {
  id: string;
  label: number;
  split: string;
}

/** What {@link fit} needs besides the data: the model, its input, its parameter groups. */
export interface TrainTask<I extends Example> {
  /** What checkpoints hold: the head alone, or the head with its encoders. */
  module: Module;
  crab: Crab;
  /** Optimizer groups, each with its base learning rate. */
  groups: ParamGroup[];
  /** Every generator the forward draws from, saved for exact resume. */
  rngs: Rng[];
  /** A batch's head input (called in a tidy scope; runs trainable encoders when fine-tuning). */
  input(items: I[]): CrabInput;
  /** Reads what `input` needs that takes I/O (a batch's audio files), before it runs. */
  prepare?(items: I[]): Promise<void>;
  /** Shapes recorded in the state (what `loadRun` rebuilds the head from). */
  dims: FeatureDims;
}


/** Evaluates a task's model on items (eval mode, no gradients). */
export async function evaluateTask<I extends Example>(task: Pick<TrainTask<I>, 'module' | 'crab' | 'input' | 'prepare'>, items: I[], C: number, batchSize = 64): Promise<{ metrics: Metrics; preds: number[] }> {
  const was = task.module.training;
  task.module.eval();
  const preds: number[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = items.slice(i, i + batchSize);
    await task.prepare?.(batch);
    const p = await scope(async () => {
      const idx = noGrad(() => argmax(task.crab.forward(task.input(batch), false).logits, -1));
      return Array.from(await idx.toArray());
    });
    preds.push(...p);
  }
  task.module.train(was);
  return { metrics: computeMetrics(items.map((i) => i.label), preds, C), preds };
}

/** Evaluates a head on cached features. */
export async function evaluate(crab: Crab, items: FeatureItem[], dims: FeatureDims, C: number, batchSize = 64): Promise<{ metrics: Metrics; preds: number[] }> {
  return evaluateTask({ module: crab, crab, input: (b: FeatureItem[]) => makeBatch(b, dims) }, items, C, batchSize);
}

/** The head for a run: encoder widths and layer counts from the data, the rest from the config. */
export function headFor(cfg: TrainConfig, dims: FeatureDims, numClasses: number, inference = false): Crab {
  return new Crab({
    ...cfg.crab, speechDim: dims.speechDim, textDim: dims.textDim, speechLayers: dims.speechLayers ?? 1, textLayers: dims.textLayers ?? 1, numClasses,
    ...(inference ? { mlcsLayers: [] } : {}),
  }, cfg.seed);
}

export function dimsOf(d: FeatureDims): FeatureDims {
  return { speechDim: d.speechDim, textDim: d.textDim, speechLayers: d.speechLayers ?? 1, textLayers: d.textLayers ?? 1 };
}


/** Steps per epoch and optimizer updates in the whole run. */
export function stepCounts(cfg: TrainConfig, trainCount: number): { stepsPerEpoch: number; totalSteps: number } {
  const stepsPerEpoch = Math.ceil(trainCount / cfg.batchSize);
  return { stepsPerEpoch, totalSteps: Math.ceil((stepsPerEpoch * cfg.epochs) / cfg.accumulation) };
}

/** The order of an epoch: depends only on (seed, epoch), so a resumed run sees the same batches. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return shuffle(n, new Rng(seed * 1000003 + epoch));
}

/** Class weights of the cross-entropy (w_c = N/(C·n_c) over the train split), or null when off. */
export function lossWeights(cfg: TrainConfig, trainItems: Example[], labels: string[]): Tensor | null {
  return cfg.classWeighting ? keep(fromArray(classWeights(trainItems.map((i) => i.label), labels.length, { names: labels }))) : null;
}

/**
 * One training step's forward, loss and backward (gradients accumulate in the parameters). Returns
 * the total loss, the CE and each contrastive loss as one small tensor (kept: read it back, then
 * dispose it) and the names of the parts after the total.
 */
export function lossStep<I extends Example>(task: Pick<TrainTask<I>, 'crab' | 'input'>, batch: I[], weights: Tensor | null, cfg: TrainConfig): { values: Tensor; parts: string[] } {
  let parts: string[] = [];
  const values = tidy(() => {
    const out = task.crab.forward(task.input(batch), true);
    const loss = task.crab.loss(out, fromArray(batch.map((i) => i.label), [batch.length], 'i32'), weights);
    const total = cfg.accumulation > 1 ? scale(loss.total, 1 / cfg.accumulation) : loss.total;
    backward(total);
    const layers = MLCS_LAYERS.filter((k) => loss.contrastive[k]);
    parts = ['ce', ...layers];
    return keep(concat([loss.total, loss.ce, ...layers.map((k) => loss.contrastive[k]!)].map((t) => t.reshape([1])), 0));
  });
  return { values, parts };
}

/**
 * The optimizer update after step `s` of an epoch (every `accumulation` steps and at the end of
 * the epoch), at the cosine schedule's rate for `globalStep` (counted before this step).
 */
export function updateStep(opt: AdamW, cfg: TrainConfig, globalStep: number, totalSteps: number, s: number, stepsPerEpoch: number): void {
  if ((s + 1) % cfg.accumulation !== 0 && s !== stepsPerEpoch - 1) return;
  const lr = cosineLr(cfg.lr, Math.floor(globalStep / cfg.accumulation), { total: totalSteps, warmup: cfg.warmupSteps, floor: cfg.lrFloor });
  opt.setLrFactor(lr / cfg.lr);
  opt.step();
  opt.zeroGrad();
}

/** Options of {@link trainHead}. */
export interface TrainHeadOptions {
  /** Stop after this many steps (default: every epoch of the config). */
  maxSteps?: number;
  /** After each step: its global number (from 1), the loss and the learning rate. */
  onStep?: (step: number, loss: number, lr: number) => void | Promise<void>;
  /** After each epoch: its number (from 1) and the dev split's scores. */
  onEpoch?: (epoch: number, dev: Metrics) => void | Promise<void>;
}

/**
 * Trains a Crab head in memory on `features`' train split — the loop of `crab train` without run
 * folders (no checkpoints, no resume): the same settings, batches, steps and updates, hence the
 * same losses. What a browser tab runs; returns the head and every step's loss.
 */
export async function trainHead(features: FeatureSet, labels: string[], cfgIn: Partial<TrainConfig>, o: TrainHeadOptions = {}): Promise<{ crab: Crab; losses: number[]; dev: Metrics | null }> {
  const cfg = resolveTrainConfig(cfgIn);
  const trainItems = features.items.filter((i) => i.split === 'train');
  const devItems = features.items.filter((i) => i.split === 'dev');
  if (!trainItems.length) throw new Error('train: the training split is empty');
  const crab = headFor(cfg, features, labels.length);
  const task = { crab, input: (b: FeatureItem[]) => makeBatch(b, features) };
  const opt = new AdamW([{ params: crab.parameters(), lr: cfg.lr, name: 'head' }], { weightDecay: cfg.weightDecay, maxGradNorm: cfg.maxGradNorm || undefined });
  const weights = lossWeights(cfg, trainItems, labels);
  const { stepsPerEpoch, totalSteps } = stepCounts(cfg, trainItems.length);
  const losses: number[] = [];
  let dev: Metrics | null = null;
  let globalStep = 0;
  // Losses stay on the GPU and are read READ_EVERY steps at a time, in one wait, as `crab train`
  // does; onStep then runs for each of them, in order.
  const pending: Array<{ values: Tensor; step: number; lr: number }> = [];
  const drain = async (): Promise<void> => {
    const got = await readAll(pending.map((p) => p.values));
    const steps = pending.splice(0);
    steps.forEach((p) => p.values.dispose());
    for (const [k, p] of steps.entries()) {
      const loss = got[k]![0]!;
      if (!Number.isFinite(loss)) throw new Error(`train: non-finite loss (${loss}) at step ${p.step}; try a lower learning rate`);
      losses.push(loss);
      await o.onStep?.(p.step, loss, p.lr);
    }
  };
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      crab.train();
      const order = epochOrder(trainItems.length, cfg.seed, epoch);
      let stopped = false;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (o.maxSteps !== undefined && globalStep >= o.maxSteps) {
          stopped = true;
          break;
        }
        const batch = order.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize).map((k) => trainItems[k]!);
        const { values } = lossStep(task, batch, weights, cfg);
        updateStep(opt, cfg, globalStep, totalSteps, s, stepsPerEpoch);
        globalStep++;
        pending.push({ values, step: globalStep, lr: opt.groups[0]!.currentLr });
        if (pending.length >= READ_EVERY) await drain();
      }
      await drain();
      if (stopped) return { crab: crab.eval(), losses, dev };
      if (devItems.length) {
        dev = (await evaluate(crab, devItems, features, labels.length)).metrics;
        await o.onEpoch?.(epoch + 1, dev);
      }
    }
  } finally {
    pending.forEach((p) => p.values.dispose());
    weights?.dispose();
  }
  return { crab: crab.eval(), losses, dev };
}

/** Training steps whose losses are read back together, in one GPU wait (a wait per step cost more than a head's step on a CPU adapter). */
export const READ_EVERY = 8;

function shuffle(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
