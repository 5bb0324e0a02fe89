/**
 * The training loop for Crab: batching with padding, AdamW with parameter groups and a cosine
 * schedule (floor, optional warm-up), gradient accumulation and clipping, evaluation every
 * epoch, the best checkpoint by a chosen metric, exact resume, Ctrl-C that saves, and a stop
 * that names the step and batch on a non-finite loss (the last good checkpoint is kept).
 *
 * One loop ({@link fit}) serves both ways of training: the head on a frozen feature cache
 * ({@link train}) and the head with its encoders end to end (`trainEndToEnd` in finetune.ts);
 * a {@link TrainTask} says what a batch's input is and which parameters train.
 * @module
 */
import { appendFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { writeAtomic } from '../util/fs.js';
import { join } from 'node:path';
import { readAll, type Tensor } from '../tensor/tensor.js';
import { Crab } from '../model/crab.js';
import { AdamW } from './optimizer.js';
import type { Metrics, MetricName } from './metrics.js';
import { saveCheckpoint, loadCheckpoint, readState, hasCheckpoint } from './run_checkpoint.js';
import { Progress } from '../util/progress.js';
import type { FeatureItem, FeatureSet, FeatureDims } from '../data/features.js';
import type { EncoderSpec } from '../data/encoders.js';
import { makeBatch } from '../data/batch.js';
import {
  resolveTrainConfig, headFor, dimsOf, epochOrder, lossWeights, lossStep, updateStep, stepCounts, evaluateTask, READ_EVERY,
  type TrainConfig, type TrainTask, type Example,
} from './loop.js';

/** What one epoch recorded. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  /** Mean of each loss part over the epoch: `ce` and each contrastive layer's loss (before λ). */
  parts?: Record<string, number>;
  dev: Metrics;
  lr: number;
  seconds: number;
}

/** The state written with each checkpoint. */
export interface TrainState extends FeatureDims {
  config: TrainConfig;
  labels: string[];
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  /** States of every generator the run draws from (the head's dropout, the encoders'). */
  rngs: number[][];
  best: { metric: MetricName; value: number; epoch: number } | null;
  history: EpochRecord[];
  /** Which encoders made the features (what `crab predict` rebuilds). */
  encoders?: EncoderSpec;
  /** The corpus trained on (name and what identifies it), compared on resume. */
  corpus?: string;
  /** The current epoch's loss so far (sum and count of steps), kept when a run is interrupted mid-epoch. */
  epochLoss?: { sum: number; n: number; parts?: Record<string, number> };
}

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
  /** The corpus, recorded in the run and compared on resume (e.g. `synthetic-natural-480`). */
  corpus?: string;
  /** Replace a run already in `runDir` (without it, a used folder is refused unless resuming). */
  overwrite?: boolean;
  /** Keep `last/` up to date every epoch for resuming (default true; the demo's short runs skip it). */
  saveLast?: boolean;
}

/** A run folder that cannot be used as asked; the message says why and what to do. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

/** The paths where two JSON values differ, as `path: a → b` (at most `max`). */
export function differences(a: unknown, b: unknown, path = '', max = 8): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k, max)).slice(0, max);
  }
  return [`${path || '(value)'}: ${JSON.stringify(a) ?? 'unset'} → ${JSON.stringify(b) ?? 'unset'}`];
}

/** Files a run writes into its folder (what `overwrite` removes). */
const RUN_FILES = ['last', 'best', 'last.old', 'best.old', 'last.partial', 'best.partial', 'log.jsonl', 'run.json'];

/**
 * Checks a run folder without touching it: `resume` needs a checkpoint; a fresh start needs an
 * unused folder, or `overwrite`. Returns what an earlier run left (what `overwrite` removes).
 */
export function checkRunDir(o: Pick<TrainOptions, 'runDir' | 'resume' | 'overwrite'>): string[] {
  if (o.resume) {
    if (!hasCheckpoint(join(o.runDir, 'last'))) throw new RunFolderError(`${o.runDir}: nothing to resume (no last/ checkpoint); start a new run without --resume`);
    return [];
  }
  const used = RUN_FILES.filter((f) => existsSync(join(o.runDir, f)));
  if (used.length && !o.overwrite) {
    throw new RunFolderError(`${o.runDir} already holds a run (${used.join(', ')}); continue it with --resume, replace it with --overwrite, or choose another --run-dir`);
  }
  return used;
}

/** {@link checkRunDir}, then clears what an earlier run left when overwriting. */
export function prepareRunDir(o: TrainOptions): void {
  for (const f of checkRunDir(o)) rmSync(join(o.runDir, f), { recursive: true, force: true });
}

/** Trains a Crab head on `features`' train split (frozen encoders), evaluating on dev each epoch. */
export async function train(features: FeatureSet, labels: string[], cfgIn: Partial<TrainConfig>, o: TrainOptions): Promise<TrainState> {
  const cfg = resolveTrainConfig(cfgIn);
  if (cfg.finetune) throw new Error('train: finetune needs the encoders and raw audio; use trainEndToEnd');
  const crab = headFor(cfg, features, labels.length);
  const task: TrainTask<FeatureItem> = {
    module: crab, crab, groups: [{ params: crab.parameters(), lr: cfg.lr, name: 'head' }], rngs: [crab._rng],
    input: (b) => makeBatch(b, features), dims: dimsOf(features),
  };
  return fit(task, features.items, labels, cfg, o);
}

/** The training loop shared by every task: train on the train split, evaluate on dev each epoch. */
export async function fit<I extends Example>(task: TrainTask<I>, items: I[], labels: string[], cfgIn: Partial<TrainConfig>, o: TrainOptions): Promise<TrainState> {
  prepareRunDir(o);
  mkdirSync(o.runDir, { recursive: true });
  const lastDir = join(o.runDir, 'last');
  let state: TrainState;
  const cfg = resolveTrainConfig(cfgIn);
  const trainItems = items.filter((i) => i.split === 'train');
  const devItems = items.filter((i) => i.split === 'dev');
  if (!trainItems.length) throw new Error('train: the training split is empty');
  if (!devItems.length) throw new Error('train: the dev split is empty (needed for evaluation and the best checkpoint)');
  const C = labels.length;
  const { crab, module } = task;
  const opt = new AdamW(task.groups, { weightDecay: cfg.weightDecay, maxGradNorm: cfg.maxGradNorm || undefined });
  const restoreRngs = (s: number[][]): void => task.rngs.forEach((r, i) => (r.state = s[i]!));
  if (o.resume) {
    state = readState<TrainState>(lastDir);
    // A resumed run continues exactly, or not at all: the same settings, labels and corpus.
    const diff = [
      ...differences(resolveTrainConfig(state.config), cfg).map((d) => `config ${d}`),
      ...differences(state.labels, labels).map(() => `labels ${state.labels.join(',')} → ${labels.join(',')}`).slice(0, 1),
      ...(state.corpus && o.corpus ? differences(state.corpus, o.corpus).map((d) => `corpus ${d.replace('(value): ', '')}`) : []),
      ...(state.encoders && o.encoders ? differences(state.encoders, o.encoders).map((d) => `encoders ${d}`) : []),
    ];
    if (diff.length) throw new RunFolderError(`${o.runDir}: --resume with other settings than the run was started with: ${diff.join('; ')}. Resume with the run's own settings (give none), or start a new run.`);
    loadCheckpoint(lastDir, module, opt);
    // Checkpoints written before encoders could train kept only the head's generator, as `rng`.
    restoreRngs(state.rngs ?? [(state as { rng?: number[] }).rng ?? crab._rng.state]);
  } else {
    state = { config: cfg, labels, ...task.dims, epoch: 0, stepInEpoch: 0, globalStep: 0, rngs: task.rngs.map((r) => r.state), best: null, history: [], encoders: o.encoders, corpus: o.corpus };
    // The resolved settings, readable without opening a checkpoint (and what --resume uses).
    writeAtomic(join(o.runDir, 'run.json'), JSON.stringify({ config: cfg, labels, corpus: o.corpus, encoders: o.encoders }, null, 2));
  }
  const weights = lossWeights(cfg, trainItems, labels);
  const { stepsPerEpoch, totalSteps } = stepCounts(cfg, trainItems.length);
  const log = (rec: object): void => appendFileSync(join(o.runDir, 'log.jsonl'), `${JSON.stringify(rec)}\n`);
  const exportFilter = (n: string): boolean => Crab.isTrainingOnly(n);
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    for (let epoch = state.epoch; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      module.train();
      // The order of an epoch depends only on (seed, epoch), so a resumed run sees the same batches.
      const order = epochOrder(trainItems.length, cfg.seed, epoch);
      const bar = o.quiet ? null : new Progress(`epoch ${epoch + 1}/${cfg.epochs}`, stepsPerEpoch);
      // Resuming mid-epoch: the epoch's mean loss covers the steps before the interrupt too.
      let lossSum = state.stepInEpoch > 0 ? (state.epochLoss?.sum ?? 0) : 0;
      let lossN = state.stepInEpoch > 0 ? (state.epochLoss?.n ?? 0) : 0;
      // The loss parts' sums this epoch (the CE and each contrastive loss; kept across an interrupt).
      const partSums: Record<string, number> = state.stepInEpoch > 0 ? { ...state.epochLoss?.parts } : {};
      let partNames: string[] = [];
      // Loss values stay on the GPU and are read a few steps at a time, in one wait (a wait per
      // step cost more than the step itself on a CPU adapter); the step records follow.
      const pending: Array<{ values: Tensor; s: number; step: number; lr: number; ids: string[] }> = [];
      const drain = async (): Promise<void> => {
        if (!pending.length) return;
        const got = await readAll(pending.map((p) => p.values));
        for (const [k, p] of pending.entries()) {
          p.values.dispose();
          const read = got[k]!;
          const loss = read[0]!;
          if (!Number.isFinite(loss)) {
            pending.slice(k + 1).forEach((q) => q.values.dispose());
            pending.length = 0;
            throw new Error(`train: non-finite loss (${loss}) at epoch ${epoch + 1}, step ${p.s + 1} (global step ${p.step}), batch items ${p.ids.join(', ')}. ` +
              `The last good checkpoint is in ${lastDir}. Try a lower learning rate or --max-grad-norm.`);
          }
          partNames.forEach((name, i) => (partSums[name] = (partSums[name] ?? 0) + read[i + 1]!));
          lossSum += loss;
          lossN++;
          log({ type: 'step', epoch: epoch + 1, step: p.step, loss, lr: p.lr });
        }
        pending.length = 0;
      };
      for (let s = state.stepInEpoch; s < stepsPerEpoch; s++) {
        const batch = order.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize).map((k) => trainItems[k]!);
        await task.prepare?.(batch);
        const step = lossStep(task, batch, weights, cfg);
        partNames = step.parts;
        const values = step.values;
        updateStep(opt, cfg, state.globalStep, totalSteps, s, stepsPerEpoch);
        state.globalStep++;
        state.stepInEpoch = s + 1;
        pending.push({ values, s, step: state.globalStep, lr: opt.groups[0]!.currentLr, ids: batch.map((i) => i.id) });
        const stop = interrupted || state.globalStep === o.stopAfterSteps;
        if (pending.length >= READ_EVERY || s === stepsPerEpoch - 1 || stop) await drain();
        else await new Promise((r) => setImmediate(r)); // lets Ctrl-C in between reads
        if (lossN) bar?.update(s + 1, { 'mean loss': lossSum / lossN, lr: opt.groups[0]!.currentLr });
        if (stop) {
          state.rngs = task.rngs.map((r) => r.state);
          state.epoch = epoch;
          state.epochLoss = { sum: lossSum, n: lossN, parts: partSums };
          await saveCheckpoint(lastDir, module, opt, state);
          throw new InterruptedError(`${bar && process.stderr.isTTY ? '\n' : ''}interrupted: saved to ${lastDir}; continue with --resume`);
        }
      }
      const dev = (await evaluateTask(task, devItems, C)).metrics;
      const parts = Object.fromEntries(Object.entries(partSums).map(([k, v]) => [k, v / Math.max(1, lossN)]));
      const rec: EpochRecord = { epoch: epoch + 1, trainLoss: lossN ? lossSum / lossN : NaN, parts, dev, lr: opt.groups[0]!.currentLr, seconds: (performance.now() - t0) / 1000 };
      state.history.push(rec);
      log({ type: 'epoch', ...rec });
      if (!o.quiet) process.stderr.write(`epoch ${epoch + 1}: train loss ${rec.trainLoss.toFixed(4)}  dev WA ${(100 * dev.accuracy).toFixed(1)}  UA ${(100 * dev.uar).toFixed(1)}  macro-F1 ${(100 * dev.macroF1).toFixed(1)}\n`);
      state.epoch = epoch + 1;
      state.stepInEpoch = 0;
      delete state.epochLoss;
      state.rngs = task.rngs.map((r) => r.state);
      const value = dev[cfg.bestMetric];
      if (!state.best || value > state.best.value) {
        state.best = { metric: cfg.bestMetric, value, epoch: epoch + 1 };
        await saveCheckpoint(join(o.runDir, 'best'), module, null, state, exportFilter);
      }
      if (o.saveLast !== false) await saveCheckpoint(lastDir, module, opt, state);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    weights?.dispose();
  }
  return state;
}

/** Thrown when Ctrl-C stopped training after saving. */
export class InterruptedError extends Error {}

export * from './loop.js';

/**
 * Loads the best checkpoint of a head-only run (frozen encoders). Fine-tuned runs also hold
 * their encoders: load those with `loadRun` (predict.ts).
 */
export function loadBest(runDir: string): { crab: Crab; state: TrainState } {
  const dir = join(runDir, 'best');
  const state = readState<TrainState>(dir);
  if (state.config.finetune) throw new Error(`${runDir}: a fine-tuned run (its checkpoint holds the encoders too); load it with loadRun`);
  const crab = headFor(resolveTrainConfig(state.config), state, state.labels.length, true);
  loadCheckpoint(dir, crab);
  return { crab: crab.eval(), state };
}
