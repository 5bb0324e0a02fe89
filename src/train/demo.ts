/**
 * `crab demo`: the embedded default end to end, with no download. Generates the synthetic
 * corpus, computes features once with tiny WavLM and RoBERTa encoders (built from the same model
 * code as the real ones, random init, frozen), then trains Crab and its ablations over several
 * seeds and writes a report: Crab (MLCS + weighted CE) vs no MLCS vs unweighted CE vs audio-only
 * vs text-only, macro-F1 and UA on the held-out test speaker.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WavLMModel, WAVLM_DEFAULTS, type WavLMConfig } from '../model/wavlm.js';
import { RobertaModel, ROBERTA_DEFAULTS, type RobertaConfig } from '../model/roberta.js';
import { syntheticCorpus, SYNTHETIC_LABELS, WordVocab, type SyntheticOptions } from './synthetic.js';
import { extractFeatures, saveFeatures, loadFeatures, cacheKey, type FeatureSet } from './features.js';
import { train, evaluate, loadBest, type TrainConfig } from './trainer.js';
import { Progress } from './progress.js';
import { lineChart, confusionChart, metricsTable, writeReport } from './report.js';
import { writeAtomic } from './checkpoint.js';
import type { Metrics } from './metrics.js';

/** Tiny encoder configs for the demo (same code paths as wavlm-large / roberta-base). */
export function tinyWavLMConfig(): WavLMConfig {
  return {
    ...WAVLM_DEFAULTS, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
    conv_dim: [64, 64, 64, 64, 64, 64, 64], feat_extract_norm: 'layer', do_stable_layer_norm: true,
    hidden_dropout: 0, attention_dropout: 0, feat_proj_dropout: 0, layerdrop: 0,
  };
}
export function tinyRobertaConfig(vocabSize: number): RobertaConfig {
  return { ...ROBERTA_DEFAULTS, vocab_size: vocabSize, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, max_position_embeddings: 66, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
}

/** Demo settings. */
export interface DemoOptions {
  condition: SyntheticOptions['condition'];
  size: number;
  epochs: number;
  seeds: number;
  out: string;
  cacheDir: string;
  quiet?: boolean;
}

/** The demo's frozen encoders and word vocabulary for a synthetic corpus. */
export function syntheticEncoders(condition: SyntheticOptions['condition'], size: number): { wavlm: WavLMModel; roberta: RobertaModel; vocab: WordVocab; utts: ReturnType<typeof syntheticCorpus> } {
  const utts = syntheticCorpus({ condition, size, seed: SYNTH_SEED });
  const vocab = new WordVocab(utts.map((u) => u.text));
  return { wavlm: new WavLMModel(tinyWavLMConfig(), ENCODER_SEED), roberta: new RobertaModel(tinyRobertaConfig(vocab.size), ENCODER_SEED + 1), vocab, utts };
}
const SYNTH_SEED = 1234;
const ENCODER_SEED = 7;

/** Synthetic corpus → cached features (computed once per corpus and encoder set). */
export async function syntheticFeatures(o: { condition: SyntheticOptions['condition']; size: number; cacheDir: string; quiet?: boolean; allLayers?: boolean }): Promise<FeatureSet> {
  const spec = { corpus: 'synthetic-v1', condition: o.condition, size: o.size, seed: SYNTH_SEED, wavlm: tinyWavLMConfig(), roberta: 'tiny-v1', encoderSeed: ENCODER_SEED, ...(o.allLayers ? { allLayers: true } : {}) };
  const path = join(o.cacheDir, `features-${cacheKey([spec])}.safetensors`);
  const cached = loadFeatures(path);
  if (cached) {
    if (!o.quiet) process.stderr.write(`features: using the cache ${path}\n`);
    return cached;
  }
  const { utts, vocab, wavlm, roberta } = syntheticEncoders(o.condition, o.size);
  const bar = o.quiet ? null : new Progress('features (tiny WavLM + RoBERTa)', utts.length);
  const set = await extractFeatures(utts, wavlm, roberta, vocab, { batchSize: 16, onProgress: (d) => bar?.update(d), allLayers: o.allLayers });
  saveFeatures(path, set);
  return set;
}

/** The ablation variants of the demo. */
export const VARIANTS: Array<{ name: string; config: Partial<TrainConfig> & { crab: TrainConfig['crab'] } }> = [
  { name: 'Crab (MLCS + weighted CE)', config: { crab: {} } },
  { name: 'no MLCS', config: { crab: { mlcsLayers: [] } } },
  { name: 'unweighted CE', config: { crab: {}, classWeighting: false } },
  { name: 'audio only', config: { crab: { modalities: 'speech' } } },
  { name: 'text only', config: { crab: { modalities: 'text' } } },
];

/** Head settings of the demo (a small Crab for two CPU cores). */
const DEMO_HEAD: TrainConfig['crab'] = { hidden: 32, fusionHidden: 32, contrastiveDim: 32, attentionDropout: 0.1, classifierDropout: 0.2 };

/** Runs the ablation and writes `report.html`, `results.json` under `o.out`. */
export async function runDemo(o: DemoOptions): Promise<Array<{ name: string; runs: Metrics[] }>> {
  mkdirSync(o.out, { recursive: true });
  const t0 = performance.now();
  const features = await syntheticFeatures(o);
  const labels = [...SYNTHETIC_LABELS];
  const counts = labels.map((_, c) => features.items.filter((i) => i.label === c && i.split === 'train').length);
  if (!o.quiet) process.stderr.write(`corpus: ${o.condition}, ${features.items.length} utterances; train class counts ${labels.map((l, c) => `${l} ${counts[c]}`).join(', ')}\n`);
  const test = features.items.filter((i) => i.split === 'test');
  const results: Array<{ name: string; runs: Metrics[]; history: number[][] }> = [];
  let confusionOfCrab: number[][] | null = null;
  for (const v of VARIANTS) {
    const runs: Metrics[] = [];
    const history: number[][] = [];
    for (let s = 0; s < o.seeds; s++) {
      const runDir = join(o.out, 'runs', v.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), `seed${s}`);
      if (!o.quiet) process.stderr.write(`\n${v.name}, seed ${s}\n`);
      const st = await train(features, labels, { ...v.config, crab: { ...DEMO_HEAD, ...v.config.crab }, epochs: o.epochs, batchSize: 32, lr: 3e-3, lrFloor: 1e-5, seed: 42 + s },
        { runDir, quiet: o.quiet, encoders: { kind: 'synthetic', condition: o.condition, size: o.size } });
      const { crab } = loadBest(runDir);
      const m = (await evaluate(crab, test, features, labels.length)).metrics;
      runs.push(m);
      history.push(st.history.map((h) => h.dev.macroF1));
      if (!confusionOfCrab && v === VARIANTS[0]) confusionOfCrab = m.confusion;
    }
    results.push({ name: v.name, runs, history });
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
  const pct = (x: number): string => (100 * x).toFixed(1);
  const rows = results.map((r) => `<tr><th>${r.name}</th><td>${pct(mean(r.runs.map((m) => m.macroF1)))} ± ${pct(std(r.runs.map((m) => m.macroF1)))}</td>` +
    `<td>${pct(mean(r.runs.map((m) => m.uar)))} ± ${pct(std(r.runs.map((m) => m.uar)))}</td><td>${pct(mean(r.runs.map((m) => m.accuracy)))}</td></tr>`).join('');
  const minutes = ((performance.now() - t0) / 60000).toFixed(1);
  writeReport(join(o.out, 'report.html'), `crab demo — synthetic ${o.condition} condition`, [
    { heading: 'Ablation (test speaker, best dev macro-F1 checkpoint)', html: `<p>${o.seeds} seeds each, mean ± std, in %. Corpus: ${features.items.length} utterances, ${o.condition} condition; train class counts ${labels.map((l, c) => `${l} ${counts[c]}`).join(', ')}. Encoders: tiny WavLM and RoBERTa, random init, frozen (features cached). ${minutes} minutes.</p>` +
      `<table><tr><th>variant</th><th>macro-F1</th><th>UA</th><th>WA</th></tr>${rows}</table>` },
    { heading: 'Dev macro-F1 per epoch (seed 0)', html: lineChart('dev macro-F1', results.map((r) => ({ name: r.name, values: r.history[0] ?? [] })), 560, 260) },
    { heading: 'Crab confusion matrix on the test speaker (seed 0)', html: confusionOfCrab ? confusionChart(confusionOfCrab, labels) : '' },
    { heading: 'Per-seed test metrics', html: results.map((r) => `<h3>${r.name}</h3>${metricsTable(r.runs.map((m, i) => ({ name: `seed ${i}`, m })))}`).join('') },
  ]);
  writeAtomic(join(o.out, 'results.json'), JSON.stringify({ condition: o.condition, size: o.size, epochs: o.epochs, seeds: o.seeds, minutes: Number(minutes), results: results.map((r) => ({ name: r.name, macroF1: r.runs.map((m) => m.macroF1), uar: r.runs.map((m) => m.uar), accuracy: r.runs.map((m) => m.accuracy) })) }, null, 2));
  console.log(`\n${'variant'.padEnd(28)} macro-F1        UA`);
  for (const r of results) console.log(`${r.name.padEnd(28)} ${pct(mean(r.runs.map((m) => m.macroF1))).padStart(5)} ± ${pct(std(r.runs.map((m) => m.macroF1))).padEnd(5)}  ${pct(mean(r.runs.map((m) => m.uar))).padStart(5)} ± ${pct(std(r.runs.map((m) => m.uar)))}`);
  console.log(`\nreport: ${join(o.out, 'report.html')}  (${minutes} min)`);
  return results;
}
