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
import type { Dataset } from './datasets.js';

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
}

/** Features of a corpus (computed once, then read from the cache). */
export async function corpusFeatures(ds: Dataset, o: CorpusFeatureOptions): Promise<{ features: FeatureSet; skipped: Array<{ id: string; reason: string }> }> {
  const ids = createHash('sha256').update(ds.utterances.map((u) => `${u.id}:${u.split}:${u.label}`).join('\n')).digest('hex');
  const key = cacheKey([ds.name, ids, o.wavlm, o.roberta, o.maxSeconds ?? 12, !!o.normalize, 'v1']);
  const path = join(o.cacheDir, `features-${ds.name}-${key}.safetensors`);
  const cached = loadFeatures(path);
  if (cached) return { features: cached, skipped: [] };
  const wavlm = loadWavLM(o.wavlm);
  const { model: roberta, tokenizer } = loadRoberta(o.roberta);
  const skipped: Array<{ id: string; reason: string }> = [];
  const bar = o.quiet ? null : new Progress(`features (${ds.name})`, ds.utterances.length);
  const features = await extractFeatures(ds.utterances, wavlm, roberta, { encode: (t) => tokenizer.encode(t) }, {
    batchSize: 4, maxSeconds: o.maxSeconds, normalize: o.normalize, onProgress: (d) => bar?.update(d), onSkip: (u, reason) => skipped.push({ id: u.id, reason }),
  });
  saveFeatures(path, features);
  return { features, skipped };
}
