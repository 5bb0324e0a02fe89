/**
 * IEMOCAP's leave-one-session-out protocol: five trainings, each testing on one held-out session,
 * from one shared feature cache.
 * @module
 */
import { join } from 'node:path';
import { loadIemocap } from '../data/corpora.js';
import { corpusFeatures, type CacheOptions } from '../data/feature_cache.js';
import { train, evaluate, loadBest, type TrainConfig } from './trainer.js';

/** One fold's test scores. */
export interface FoldResult {
  fold: number;
  wa: number;
  ua: number;
}

/**
 * IEMOCAP leave-one-session-out: trains each fold (test = that session) into `runDir/fold<k>`
 * from one shared feature cache and scores the best checkpoint on the held-out session.
 */
export async function crossValidateIemocap(dataDir: string, runDir: string, cfg: Partial<TrainConfig>, enc: CacheOptions & { maxSeconds: number; normalize: boolean }, folds = [1, 2, 3, 4, 5], quiet = false, overwrite = false): Promise<FoldResult[]> {
  const rows: FoldResult[] = [];
  for (const fold of folds) {
    const ds = loadIemocap(dataDir, fold);
    const { features } = await corpusFeatures(ds, { ...enc, quiet, allLayers: cfg.layerWeightedSum });
    const dir = join(runDir, `fold${fold}`);
    const st = await train(features, ds.labels, { ...cfg, bestMetric: cfg.bestMetric ?? 'uar' }, { runDir: dir, quiet, overwrite, corpus: `iemocap:${dataDir}:fold${fold}`, encoders: { kind: 'hf', wavlm: enc.wavlm, roberta: enc.roberta, maxSeconds: enc.maxSeconds, normalize: enc.normalize } });
    const { crab } = loadBest(dir);
    const m = (await evaluate(crab, features.items.filter((i) => i.split === 'test'), st, ds.labels.length)).metrics;
    rows.push({ fold, wa: m.accuracy, ua: m.uar });
  }
  return rows;
}
