/**
 * The schema of a training config: what a YAML/JSON config file and the `crab train` flags may
 * set, checked before anything is built. Unknown keys (at any depth) are errors, every number has
 * its range, and the head's shape rules (an even `hidden`, heads dividing the attention width)
 * are checked on the merged config, so a typo or an impossible value stops the run at once with
 * the key that caused it.
 * @module
 */
import { z } from 'zod';
import { MLCS_LAYERS } from '../model/crab.js';
import { parseWith, SchemaError, show } from '../util/schema.js';
import type { TrainConfig } from './trainer.js';
import type { MetricName } from './metrics.js';

/** The metrics a run can keep its best checkpoint by. */
export const METRICS = ['macroF1', 'uar', 'accuracy', 'weightedF1'] as const satisfies readonly MetricName[];

const posInt = z.number().int().positive();
const rate = z.number().min(0).lt(1);

/** The Crab head settings a config may give (the encoder widths and class count come from the data). */
export const CrabHeadSchema = z.object({
  hidden: posInt.refine((h) => h % 2 === 0, 'expected an even number (the frame-level contrastive projection is hidden/2 wide)'),
  fusionHidden: posInt,
  contrastiveDim: posInt,
  attentionHeads: posInt,
  attentionDropout: rate,
  classifierDropout: rate,
  maskPadding: z.boolean(),
  mlcsLayers: z.array(z.enum(MLCS_LAYERS)),
  mlcsLambda: z.number().min(0),
  mlcsTemperature: z.number().positive(),
  modalities: z.enum(['both', 'speech', 'text']),
  crossModalLayers: z.number().int().min(0),
  crossModalHeads: posInt,
  crossModalFfn: posInt,
  crossModalDropout: rate,
}).partial().strict();

/**
 * Fine-tuning: the encoders' training-mode settings, over their `config.json` (Hugging Face's
 * names). Unset keys keep the checkpoint's values.
 */
export const EncoderSettingsSchema = z.object({
  wavlm: z.object({
    hidden_dropout: rate, attention_dropout: rate, activation_dropout: rate, feat_proj_dropout: rate, layerdrop: rate,
    mask_time_prob: rate, mask_time_length: posInt, mask_feature_prob: rate, mask_feature_length: posInt,
  }).partial().strict(),
  roberta: z.object({ hidden_dropout_prob: rate, attention_probs_dropout_prob: rate }).partial().strict(),
}).partial().strict();

/** Every key of a training config, each optional (defaults fill the rest). */
export const TrainConfigSchema = z.object({
  crab: CrabHeadSchema,
  epochs: posInt,
  batchSize: posInt,
  lr: z.number().positive(),
  weightDecay: z.number().min(0),
  lrFloor: z.number().min(0),
  warmupSteps: z.number().int().min(0),
  maxGradNorm: z.number().min(0),
  accumulation: posInt,
  classWeighting: z.boolean(),
  bestMetric: z.enum(METRICS),
  seed: z.number().int().min(0),
  layerWeightedSum: z.boolean(),
  finetune: z.boolean(),
  encoderLrScale: z.number().positive(),
  encoders: EncoderSettingsSchema,
}).partial().strict();

/** The keys a config may hold at a path (for "unknown key" messages). */
export function knownKeys(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(TrainConfigSchema.shape);
  if (path.length === 1 && path[0] === 'crab') return Object.keys(CrabHeadSchema.shape);
  if (path.length === 1 && path[0] === 'encoders') return Object.keys(EncoderSettingsSchema.shape);
  if (path.length === 2 && path[0] === 'encoders' && (path[1] === 'wavlm' || path[1] === 'roberta')) return Object.keys(EncoderSettingsSchema.shape[path[1]].unwrap().shape);
  return [];
}

/**
 * Checks a partial config (a parsed file, or flags gathered into config keys). `where(path)`
 * names the source of a key in errors.
 */
export function checkTrainConfig(input: unknown, where: (path: readonly PropertyKey[]) => string): Partial<TrainConfig> {
  return parseWith(TrainConfigSchema, input, where, knownKeys) as Partial<TrainConfig>;
}

/**
 * The rules that tie several keys together, on a resolved config: the attention heads divide
 * the BiGRU's output width (2·hidden), and the learning-rate floor stays under the rate.
 */
export function checkTrainRules(cfg: TrainConfig, where: (path: readonly PropertyKey[]) => string): void {
  const hidden = cfg.crab.hidden ?? 512;
  const width = 2 * hidden;
  const heads: Array<['attentionHeads' | 'crossModalHeads', number]> = [['attentionHeads', cfg.crab.attentionHeads ?? 1]];
  if ((cfg.crab.crossModalLayers ?? 0) > 0) heads.push(['crossModalHeads', cfg.crab.crossModalHeads ?? 8]);
  for (const [key, h] of heads) {
    if (width % h) throw new SchemaError(`${where(['crab', key])}: ${h} heads do not divide the attention width 2·hidden = ${width} (hidden ${hidden})`);
  }
  const set = Object.values(cfg.encoders ?? {}).some((o) => o && Object.keys(o).length);
  if (set && !cfg.finetune) {
    const key = Object.entries(cfg.encoders).flatMap(([m, o]) => Object.keys(o ?? {}).map((k) => ['encoders', m, k]))[0]!;
    throw new SchemaError(`${where(key)}: the encoders' dropout and masking act only when they train (--finetune); frozen encoders run in eval mode`);
  }
  if (cfg.lrFloor > cfg.lr) throw new SchemaError(`${where(['lrFloor'])}: ${show(cfg.lrFloor)} is not allowed: the learning-rate floor must not exceed lr (${cfg.lr})`);
}

/**
 * Defaults for the synthetic corpus (the demo's settings): a small head (hidden 32) that learns in
 * seconds on two CPU cores, where the authors' hidden 512 takes minutes per epoch and, on 300
 * training utterances, learns only the majority class.
 */
export const SYNTHETIC_DEFAULTS: Partial<TrainConfig> & { crab: TrainConfig['crab'] } = {
  crab: { hidden: 32, fusionHidden: 32, contrastiveDim: 32, attentionDropout: 0.1, classifierDropout: 0.2 },
  epochs: 8, batchSize: 32, lr: 3e-3, lrFloor: 1e-5,
};
