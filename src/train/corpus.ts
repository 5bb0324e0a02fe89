/**
 * Real corpora → cached features: frozen WavLM and RoBERTa loaded from Hugging Face folders (or
 * ids in the Hugging Face cache), the tokenizer from the RoBERTa folder. Unreadable audio is
 * skipped and reported; the feature cache is keyed by the corpus and everything that shapes the
 * features.
 * @module
 */
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { RobertaModel, readRobertaConfig } from '../model/roberta.js';
import { TensorSource, loadInto } from '../model/checkpoint.js';
import { resolveModel } from '../model/resolve.js';
import { ByteLevelBPE } from '../model/tokenizer.js';
import { loadWavLM } from './embed.js';
import { extractFeatures, saveFeatures, loadFeatures, cacheKey, type FeatureSet } from './features.js';
import { Progress } from './progress.js';
import { loadIemocap, type Dataset } from './datasets.js';
import { train, evaluate, loadBest, type TrainConfig } from './trainer.js';

/** Loads a RoBERTa (bare or with the `roberta.` prefix of task checkpoints) and its tokenizer. */
export function loadRoberta(nameOrPath: string): { model: RobertaModel; tokenizer: ByteLevelBPE } {
  const dir = resolveModel(nameOrPath);
  const model = new RobertaModel(readRobertaConfig(dir)).eval();
  const plain = TensorSource.fromFolder(dir);
  const prefixed = plain.names().some((n) => n.startsWith('roberta.'));
  loadInto(model, prefixed ? TensorSource.fromFolder(dir, 'roberta.') : plain, {
    what: dir, allowUnexpected: [/^pooler\./, /position_ids$/, /^lm_head\./, /^classifier\./], allowMissing: [/^embeddings\.token_type_embeddings\./],
  });
  return { model, tokenizer: ByteLevelBPE.fromFolder(dir) };
}

/** Options of {@link corpusFeatures}. */
export interface CorpusFeatureOptions {
  wavlm: string;
  roberta: string;
  cacheDir: string;
  maxSeconds?: number;
  normalize?: boolean;
  quiet?: boolean;
  /** Keep every hidden state (for the learned layer-weighted sum). */
  allLayers?: boolean;
}

/** Features of a corpus (computed once, then read from the cache). */
export async function corpusFeatures(ds: Dataset, o: CorpusFeatureOptions): Promise<{ features: FeatureSet; skipped: Array<{ id: string; reason: string }> }> {
  // The key leaves the splits out (features do not depend on them), so every IEMOCAP fold shares
  // one cache; the splits of the current protocol are applied after loading.
  const ids = createHash('sha256').update(ds.utterances.map((u) => `${u.id}:${u.label}`).join('\n')).digest('hex');
  const corpus = ds.name.replace(/-fold\d+$/, '');
  const key = cacheKey([corpus, ids, o.wavlm, o.roberta, o.maxSeconds ?? 12, !!o.normalize, 'v2', ...(o.allLayers ? ['all-layers'] : [])]);
  const path = join(o.cacheDir, `features-${corpus}-${key}.safetensors`);
  const cached = loadFeatures(path);
  if (cached) {
    const split = new Map(ds.utterances.map((u) => [u.id, u.split]));
    for (const it of cached.items) it.split = split.get(it.id) ?? it.split;
    return { features: cached, skipped: [] };
  }
  const wavlm = loadWavLM(o.wavlm);
  const { model: roberta, tokenizer } = loadRoberta(o.roberta);
  const skipped: Array<{ id: string; reason: string }> = [];
  const bar = o.quiet ? null : new Progress(`features (${ds.name})`, ds.utterances.length);
  const features = await extractFeatures(ds.utterances, wavlm, roberta, { encode: (t) => tokenizer.encode(t) }, {
    batchSize: 4, maxSeconds: o.maxSeconds, normalize: o.normalize, allLayers: o.allLayers, onProgress: (d) => bar?.update(d), onSkip: (u, reason) => skipped.push({ id: u.id, reason }),
  });
  saveFeatures(path, features);
  return { features, skipped };
}

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
export async function crossValidateIemocap(dataDir: string, runDir: string, cfg: Partial<TrainConfig>, enc: CorpusFeatureOptions & { maxSeconds: number; normalize: boolean }, folds = [1, 2, 3, 4, 5], quiet = false): Promise<FoldResult[]> {
  const rows: FoldResult[] = [];
  for (const fold of folds) {
    const ds = loadIemocap(dataDir, fold);
    const { features } = await corpusFeatures(ds, { ...enc, quiet, allLayers: cfg.layerWeightedSum });
    const dir = join(runDir, `fold${fold}`);
    const st = await train(features, ds.labels, { ...cfg, bestMetric: cfg.bestMetric ?? 'uar' }, { runDir: dir, quiet, encoders: { kind: 'hf', wavlm: enc.wavlm, roberta: enc.roberta, maxSeconds: enc.maxSeconds, normalize: enc.normalize } });
    const { crab } = loadBest(dir);
    const m = (await evaluate(crab, features.items.filter((i) => i.split === 'test'), st, ds.labels.length)).metrics;
    rows.push({ fold, wa: m.accuracy, ua: m.uar });
  }
  return rows;
}
