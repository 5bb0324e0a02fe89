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
import { SYNTHETIC_LABELS, type SyntheticOptions } from '../data/synthetic.js';
import { syntheticFeatures } from '../data/features.js';
import { train, evaluate, loadBest, type TrainConfig } from '../train/trainer.js';
import type { Metrics } from '../train/metrics.js';
import { lineChart, confusionChart, metricsTable, writeReport } from '../report/report.js';
import { writeAtomic } from '../util/fs.js';
import { initDevice } from '../tensor/device.js';
import { SYNTHETIC_DEFAULTS } from '../train/config.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import type { Command } from './common.js';

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

/** The ablation variants of the demo. */
export const VARIANTS: Array<{ name: string; config: Partial<TrainConfig> & { crab: TrainConfig['crab'] } }> = [
  { name: 'Crab (MLCS + weighted CE)', config: { crab: {} } },
  { name: 'no MLCS', config: { crab: { mlcsLayers: [] } } },
  { name: 'unweighted CE', config: { crab: {}, classWeighting: false } },
  { name: 'audio only', config: { crab: { modalities: 'speech' } } },
  { name: 'text only', config: { crab: { modalities: 'text' } } },
];


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
  let runNo = 0;
  for (const v of VARIANTS) {
    const runs: Metrics[] = [];
    const history: number[][] = [];
    for (let s = 0; s < o.seeds; s++) {
      const runDir = join(o.out, 'runs', v.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), `seed${s}`);
      if (!o.quiet) process.stderr.write(`\nrun ${++runNo}/${VARIANTS.length * o.seeds}: ${v.name}, seed ${s}\n`);
      const st = await train(features, labels, { ...SYNTHETIC_DEFAULTS, ...v.config, crab: { ...SYNTHETIC_DEFAULTS.crab, ...v.config.crab }, epochs: o.epochs, seed: 42 + s },
        { runDir, quiet: o.quiet, overwrite: true, corpus: `synthetic-${o.condition}-${o.size}`, encoders: { kind: 'synthetic', condition: o.condition, size: o.size } });
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

const FLAGS = {
  condition: { type: 'enum', values: ['natural', 'acted'], default: 'natural', help: 'corpus condition (natural: imbalanced, weak and partly conflicting cues)' },
  size: { type: 'int', default: 400, min: 40, help: 'utterances' },
  epochs: { type: 'int', default: 8, help: 'epochs per run' },
  seeds: { type: 'int', default: 3, help: 'seeds per variant' },
  out: { type: 'string', arg: 'DIR', default: 'runs/demo', help: 'output folder' },
  'cache-dir': { type: 'string', arg: 'DIR', default: '.cache/crab-ser', help: 'feature cache' },
  quiet: { type: 'boolean', help: 'no progress output' },
} satisfies FlagTable;

/** `crab demo`. */
export const demoCommand: Command = {
  summary: 'train Crab and its ablations on the embedded synthetic corpus and write a report',
  usage: 'crab demo [options]',
  description: `Generates the synthetic bimodal corpus, caches tiny WavLM/RoBERTa features, trains Crab (MLCS +
weighted CE) and its ablations (no MLCS, unweighted CE, audio only, text only) over several seeds,
and writes <out>/report.html and <out>/results.json.`,
  flags: FLAGS,
  async run(argv) {
    const { values } = parseFlags('demo', FLAGS, argv);
    await initDevice();
    await runDemo({
      condition: values.condition as 'natural' | 'acted', size: values.size!, epochs: values.epochs!, seeds: values.seeds!,
      out: values.out!, cacheDir: values['cache-dir']!, quiet: values.quiet,
    });
  },
};
