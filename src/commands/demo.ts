/**
 * `crab demo`: the embedded default end to end, with no download. For each condition of the
 * synthetic corpus (acted: balanced, strong cues; natural: imbalanced, weak and partly conflicting
 * cues) it computes features once with tiny frozen random-init WavLM and RoBERTa encoders, then
 * runs the ablation that isolates the seed's claim — MLCS at all five layers, contrastive only at
 * the final layer, no contrastive loss, MLCS with unweighted CE, and each modality alone — under
 * speaker-fold cross-validation (every speaker is a test speaker once). It reports means with 95%
 * intervals over folds × seeds and paired tests of Crab against each variant, with pictures of
 * the layers (PCA), the five contrastive losses and the confusion matrices.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initDevice } from '../tensor/device.js';
import { noGrad, scope } from '../tensor/tensor.js';
import { MLCS_LAYERS } from '../model/crab.js';
import { SYNTHETIC_LABELS, type SyntheticOptions } from '../data/synthetic.js';
import { syntheticFeatures, type FeatureItem, type FeatureSet } from '../data/features.js';
import { makeBatch } from '../data/batch.js';
import { train, evaluate, loadBest, type TrainConfig, type EpochRecord } from '../train/trainer.js';
import { SYNTHETIC_DEFAULTS } from '../train/config.js';
import type { Metrics } from '../train/metrics.js';
import { lineChart, confusionChart, intervalChart, scatterChart, writeReport } from '../report/report.js';
import { ci95, pairedDifference, signTest, pca2, type Interval, type SignTest } from '../report/stats.js';
import { writeAtomic } from '../util/fs.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { fmtTime } from '../util/progress.js';
import { usage, type Command } from './common.js';

type Condition = SyntheticOptions['condition'];

/** Demo settings. */
export interface DemoOptions {
  conditions: Condition[];
  size: number;
  epochs: number;
  /** Speaker folds: the speakers are dealt into this many test groups. */
  folds: number;
  seeds: number;
  out: string;
  cacheDir: string;
  quiet?: boolean;
  /** A subset of the variants by key (tests); default all. */
  variants?: string[];
}

/** One ablation variant. */
export interface Variant {
  key: string;
  name: string;
  config: Partial<TrainConfig> & { crab: TrainConfig['crab'] };
}

/** The ablation: the first is Crab, the others each change one thing. */
export const VARIANTS: Variant[] = [
  { key: 'crab', name: 'Crab (MLCS on all five layers + weighted CE)', config: { crab: {} } },
  { key: 'final', name: 'contrastive at the final layer only + weighted CE', config: { crab: { mlcsLayers: ['fusion'] } } },
  { key: 'none', name: 'no contrastive loss + weighted CE', config: { crab: { mlcsLayers: [] } } },
  { key: 'unweighted', name: 'MLCS + unweighted CE', config: { crab: {}, classWeighting: false } },
  { key: 'audio', name: 'audio only (MLCS + weighted CE)', config: { crab: { modalities: 'speech' } } },
  { key: 'text', name: 'text only (MLCS + weighted CE)', config: { crab: { modalities: 'text' } } },
];

/** One trained and scored run. */
export interface DemoRun {
  condition: Condition;
  fold: number;
  seed: number;
  variant: string;
  testSpeakers: string[];
  devSpeaker: string;
  macroF1: number;
  uar: number;
  accuracy: number;
  weightedF1: number;
  confusion: number[][];
}

/** Crab against one variant over the same folds and seeds. */
export interface Comparison {
  variant: string;
  metric: 'macroF1' | 'uar';
  /** Crab − variant: the mean paired difference with its 95% t-interval. */
  diff: Interval;
  sign: SignTest;
}

/** What results.json holds. */
export interface DemoResults {
  settings: Omit<DemoOptions, 'quiet' | 'out' | 'cacheDir'> & { head: TrainConfig['crab']; labels: string[] };
  minutes: number;
  runs: DemoRun[];
  /** Per condition and variant: mean and 95% t-interval over folds × seeds. */
  summary: Record<string, Record<string, { macroF1: Interval; uar: Interval }>>;
  /** Per condition: Crab minus each other variant, paired over folds × seeds. */
  comparisons: Record<string, Comparison[]>;
}

/**
 * Speaker folds: the speakers, sorted, dealt round-robin into `k` test groups; each fold's dev
 * speaker is the next speaker not in its test group; the rest train.
 */
export function speakerFolds(speakers: string[], k: number): Array<{ test: string[]; dev: string }> {
  const s = [...new Set(speakers)].sort();
  if (k < 2 || k > s.length - 2) throw new Error(`demo: ${k} folds need between 2 and ${s.length - 2} (the corpus has ${s.length} speakers)`);
  return Array.from({ length: k }, (_, f) => {
    const test = s.filter((_, i) => i % k === f);
    let d = (f + 1) % s.length;
    while (test.includes(s[d]!)) d = (d + 1) % s.length;
    return { test, dev: s[d]! };
  });
}

function resplit(items: FeatureItem[], fold: { test: string[]; dev: string }): FeatureItem[] {
  return items.map((i) => ({ ...i, split: fold.test.includes(i.speaker) ? 'test' : i.speaker === fold.dev ? 'dev' : 'train' }));
}

/** Summary and paired comparisons computed from the runs alone (what the test recomputes). */
export function summarize(runs: DemoRun[], variants: string[]): Pick<DemoResults, 'summary' | 'comparisons'> {
  const summary: DemoResults['summary'] = {};
  const comparisons: DemoResults['comparisons'] = {};
  for (const cond of [...new Set(runs.map((r) => r.condition))]) {
    const of = (v: string): DemoRun[] => runs.filter((r) => r.condition === cond && r.variant === v).sort((a, b) => a.fold - b.fold || a.seed - b.seed);
    summary[cond] = Object.fromEntries(variants.map((v) => [v, { macroF1: ci95(of(v).map((r) => r.macroF1)), uar: ci95(of(v).map((r) => r.uar)) }]));
    comparisons[cond] = variants.slice(1).flatMap((v) => (['macroF1', 'uar'] as const).map((metric) => {
      const a = of(variants[0]!).map((r) => r[metric]);
      const b = of(v).map((r) => r[metric]);
      return { variant: v, metric, diff: pairedDifference(a, b), sign: signTest(a, b) };
    }));
  }
  return { summary, comparisons };
}

/** Per-epoch loss parts of a run (the CE and each contrastive loss). */
function partSeries(history: EpochRecord[]): Array<{ name: string; values: number[] }> {
  const keys = ['ce', ...MLCS_LAYERS].filter((k) => history.some((h) => h.parts?.[k] !== undefined));
  return keys.map((k) => ({ name: k === 'ce' ? 'weighted CE' : `contrastive: ${k}`, values: history.map((h) => h.parts?.[k] ?? NaN) }));
}

/** PCA of what each supervised layer holds for the test items, one scatter per layer. */
async function layerPictures(runDir: string, items: FeatureItem[], set: FeatureSet, title: string): Promise<string[]> {
  const { crab } = loadBest(runDir);
  const reps = await scope(async () => {
    const out = noGrad(() => crab.forward(makeBatch(items, set), false, true));
    const r: Partial<Record<string, Float32Array>> = {};
    for (const [k, t] of Object.entries(out.representations ?? {})) r[k] = (await t.toArray()) as Float32Array;
    return r;
  });
  return MLCS_LAYERS.filter((l) => reps[l]).map((l) => {
    const x = reps[l]!;
    const d = x.length / items.length;
    const pts = pca2(x, items.length, d).map(([px, py], i) => ({ x: px, y: py, cls: items[i]!.label }));
    return scatterChart(`${title}: ${l}`, pts, SYNTHETIC_LABELS, 330, 230);
  });
}

const pct = (x: number): string => (100 * x).toFixed(1);
const interval = (i: Interval): string => `${pct(i.mean)} <span class="ci">[${pct(i.lo)}, ${pct(i.hi)}]</span>`;
const pFmt = (p: number): string => (p < 0.001 ? '< 0.001' : p.toFixed(3));

/** Runs the ablation on every condition and writes `report.html` and `results.json` under `o.out`. */
export async function runDemo(o: DemoOptions): Promise<DemoResults> {
  mkdirSync(o.out, { recursive: true });
  const t0 = performance.now();
  const variants = VARIANTS.filter((v) => !o.variants || o.variants.includes(v.key));
  const labels = [...SYNTHETIC_LABELS];
  const runs: DemoRun[] = [];
  const curves: Record<string, { parts: Array<{ name: string; values: number[] }>; dev: Array<{ name: string; values: number[] }> }> = {};
  const pictures: Record<string, { crab: string[]; none: string[] }> = {};
  const classCounts: Record<string, string> = {};
  const total = o.conditions.length * o.folds * variants.length * o.seeds;
  let done = 0;
  for (const condition of o.conditions) {
    const set = await syntheticFeatures({ condition, size: o.size, cacheDir: o.cacheDir, quiet: o.quiet });
    classCounts[condition] = labels.map((l, c) => `${l} ${set.items.filter((i) => i.label === c).length}`).join(', ');
    const folds = speakerFolds(set.items.map((i) => i.speaker), o.folds);
    curves[condition] = { parts: [], dev: [] };
    for (const [f, fold] of folds.entries()) {
      const items = resplit(set.items, fold);
      const features = { ...set, items };
      const test = items.filter((i) => i.split === 'test');
      const before = runs.length;
      for (const v of variants) {
        for (let s = 0; s < o.seeds; s++) {
          const runDir = join(o.out, 'runs', condition, `fold${f + 1}`, v.key, `seed${s}`);
          const st = await train(features, labels, { ...SYNTHETIC_DEFAULTS, ...v.config, crab: { ...SYNTHETIC_DEFAULTS.crab, ...v.config.crab }, epochs: o.epochs, seed: 42 + s },
            { runDir, quiet: true, overwrite: true, saveLast: false, corpus: `synthetic-${condition}-${o.size}-fold${f + 1}`, encoders: { kind: 'synthetic', condition, size: o.size } });
          const m: Metrics = (await evaluate(loadBest(runDir).crab, test, features, labels.length)).metrics;
          runs.push({ condition, fold: f + 1, seed: s, variant: v.key, testSpeakers: fold.test, devSpeaker: fold.dev, macroF1: m.macroF1, uar: m.uar, accuracy: m.accuracy, weightedF1: m.weightedF1, confusion: m.confusion });
          done++;
          if (f === 0 && s === 0) {
            if (v.key === 'crab') curves[condition]!.parts = partSeries(st.history);
            curves[condition]!.dev.push({ name: v.key, values: st.history.map((h) => 100 * h.dev.macroF1) });
            if (v.key === 'crab' || v.key === 'none') {
              (pictures[condition] ??= { crab: [], none: [] })[v.key] = await layerPictures(runDir, test, features, v.key === 'crab' ? 'with MLCS' : 'without');
            }
          }
        }
      }
      if (!o.quiet) {
        const crab = runs.slice(before).filter((r) => r.variant === 'crab').map((r) => pct(r.macroF1)).join(', ');
        const eta = ((performance.now() - t0) / 1000 / done) * (total - done);
        process.stderr.write(`${condition} fold ${f + 1}/${folds.length} (test ${fold.test.join(' ')}, dev ${fold.dev}): ${done}/${total} runs; Crab test macro-F1 ${crab}; ETA ${fmtTime(eta)}\n`);
      }
    }
  }
  const minutes = (performance.now() - t0) / 60000;
  const keys = variants.map((v) => v.key);
  const results: DemoResults = {
    settings: { conditions: o.conditions, size: o.size, epochs: o.epochs, folds: o.folds, seeds: o.seeds, variants: keys, head: SYNTHETIC_DEFAULTS.crab, labels },
    minutes: Number(minutes.toFixed(2)), runs, ...summarize(runs, keys),
  };
  writeAtomic(join(o.out, 'results.json'), JSON.stringify(results, null, 2));
  writeReport(join(o.out, 'report.html'), 'crab demo — the MLCS ablation on the synthetic corpus', reportSections(results, variants, curves, pictures, classCounts));
  printTable(results, variants);
  if (!o.quiet) process.stderr.write(`\nreport: ${join(o.out, 'report.html')}  (${minutes.toFixed(1)} min)\n`);
  return results;
}

/** The table: per condition and variant, mean [95% CI], and the paired tests against Crab. */
function table(r: DemoResults, variants: Variant[], cond: string): string {
  const rows = variants.map((v, i) => {
    const s = r.summary[cond]![v.key]!;
    const cmp = (metric: 'macroF1' | 'uar'): string => {
      if (i === 0) return '<td>—</td><td>—</td>';
      const c = r.comparisons[cond]!.find((x) => x.variant === v.key && x.metric === metric)!;
      return `<td>${c.diff.mean >= 0 ? '+' : ''}${pct(c.diff.mean)} <span class="ci">[${pct(c.diff.lo)}, ${pct(c.diff.hi)}]</span></td>` +
        `<td>${c.sign.wins}/${c.sign.losses}/${c.sign.ties}, p ${pFmt(c.sign.p)}</td>`;
    };
    return `<tr><th style="text-align:left">${v.name}</th><td>${interval(s.macroF1)}</td><td>${interval(s.uar)}</td>${cmp('macroF1')}</tr>`;
  }).join('');
  return `<div class="scroll"><table><tr><th>variant</th><th>macro-F1 %</th><th>UA %</th><th>Crab − variant, macro-F1 (paired, 95% interval)</th><th>sign test: Crab wins/losses/ties</th></tr>${rows}</table></div>`;
}

function reportSections(r: DemoResults, variants: Variant[], curves: Record<string, { parts: Array<{ name: string; values: number[] }>; dev: Array<{ name: string; values: number[] }> }>,
  pictures: Record<string, { crab: string[]; none: string[] }>, classCounts: Record<string, string>): Array<{ heading: string; html: string }> {
  const conds = r.settings.conditions;
  const n = r.settings.folds * r.settings.seeds;
  const side = (f: (c: string) => string): string => `<div class="row">${conds.map((c) => `<div><h3>${c}</h3>${f(c)}</div>`).join('')}</div>`;
  const confusion = (c: string): number[][] => {
    const sum = r.settings.labels.map(() => r.settings.labels.map(() => 0));
    for (const run of r.runs) if (run.condition === c && run.variant === 'crab') run.confusion.forEach((row, i) => row.forEach((v, j) => (sum[i]![j]! += v)));
    return sum;
  };
  return [
    { heading: 'What this shows, and what it does not', html: `<p>Each condition of the synthetic corpus (${r.settings.size} utterances, 8 speakers) is split by speaker into ${r.settings.folds} folds; every speaker is a test speaker once, a dev speaker (early stopping on dev macro-F1) is chosen per fold, and each variant trains on the rest with ${r.settings.seeds} seed(s) per fold: n = ${n} runs per cell, scored on the test speakers. Intervals are 95% t-intervals over those runs; the paired tests compare Crab with each variant on the same fold and seed: the mean difference with its 95% t-interval, and the exact two-sided sign test. With n runs per cell the sign test cannot give p below 2/2^n (0.125 at n = 4): the demo shows directions and sizes, and only large, consistent differences can reach significance. The encoders are tiny, random-init and frozen, and the data are synthetic: the demo tests the training system and whether MLCS helps under controlled cues, not Crab's accuracy on real speech. Class counts: ${conds.map((c) => `${c}: ${classCounts[c]}`).join('; ')}. Head: hidden ${r.settings.head.hidden}, ${r.settings.epochs} epochs. ${r.minutes.toFixed(1)} minutes.</p>` },
    { heading: 'The ablation (test speakers, every fold)', html: conds.map((c) => `<h3>${c}</h3>${table(r, variants, c)}`).join('') },
    { heading: 'Macro-F1 with 95% intervals', html: intervalChart('test macro-F1 (%), mean and 95% interval over folds × seeds', variants.map((v) => ({ label: v.key === 'crab' ? 'Crab' : v.name.replace(/ \+ weighted CE| \(MLCS \+ weighted CE\)/, ''), points: conds.map((c) => ({ group: c, mean: 100 * r.summary[c]![v.key]!.macroF1.mean, lo: 100 * r.summary[c]![v.key]!.macroF1.lo, hi: 100 * r.summary[c]![v.key]!.macroF1.hi })) })), 'macro-F1 (%)', 760) },
    { heading: 'Crab\'s losses per epoch (fold 1, seed 0): the weighted CE and the five contrastive losses', html: side((c) => lineChart(`training losses, ${c}`, curves[c]!.parts, 560, 280, 'mean loss per epoch')) },
    { heading: 'What MLCS does to the layers: PCA of the test speakers\' representations at each supervised layer (fold 1), with MLCS and without any contrastive loss', html: `<p>Each point is one test utterance; colours are the true classes. Left to right: the frame-level speech and text projections (averaged over frames), the pooled speech and text vectors, the fusion layer.</p>` +
      conds.map((c) => `<h3>${c}: with MLCS</h3><div class="grid">${pictures[c]?.crab.join('') ?? ''}</div><h3>${c}: without any contrastive loss</h3><div class="grid">${pictures[c]?.none.join('') ?? ''}</div>`).join('') },
    { heading: 'Dev macro-F1 per epoch (fold 1, seed 0)', html: side((c) => lineChart(`dev macro-F1, ${c}`, curves[c]!.dev, 560, 280, 'macro-F1 (%)')) },
    { heading: 'Crab\'s confusion matrix, summed over the folds\' test speakers', html: side((c) => confusionChart(confusion(c), r.settings.labels)) },
  ];
}

function printTable(r: DemoResults, variants: Variant[]): void {
  const w = Math.max(...variants.map((v) => v.name.length)) + 2;
  for (const c of r.settings.conditions) {
    console.log(`\n${c} condition — test macro-F1 and UA (%), mean [95% CI] over ${r.settings.folds * r.settings.seeds} runs; Crab − variant in macro-F1 [95% CI] (sign test wins/losses, p)`);
    for (const v of variants) {
      const s = r.summary[c]![v.key]!;
      const cmp = r.comparisons[c]!.find((x) => x.variant === v.key && x.metric === 'macroF1');
      const tail = cmp ? `  ${cmp.diff.mean >= 0 ? '+' : ''}${pct(cmp.diff.mean)} [${pct(cmp.diff.lo)}, ${pct(cmp.diff.hi)}] (${cmp.sign.wins}/${cmp.sign.losses}, p ${pFmt(cmp.sign.p)})` : '';
      console.log(`${v.name.padEnd(w)} ${pct(s.macroF1.mean).padStart(5)} [${pct(s.macroF1.lo)}, ${pct(s.macroF1.hi)}]  ${pct(s.uar.mean).padStart(5)} [${pct(s.uar.lo)}, ${pct(s.uar.hi)}]${tail}`);
    }
  }
}

const FLAGS = {
  conditions: { type: 'string', arg: 'LIST', default: 'acted,natural', help: 'corpus conditions, comma-separated (acted: balanced, strong cues; natural: imbalanced, weak and partly conflicting cues)' },
  size: { type: 'int', default: 400, min: 80, help: 'utterances per condition' },
  folds: { type: 'int', default: 4, min: 2, help: 'speaker folds (8 speakers, dealt into this many test groups)' },
  epochs: { type: 'int', default: 7, help: 'epochs per run (7 keeps the whole demo within 6 minutes on 2 CPU cores)' },
  seeds: { type: 'int', default: 1, help: 'seeds per fold' },
  out: { type: 'string', arg: 'DIR', default: 'runs/demo', help: 'output folder' },
  'cache-dir': { type: 'string', arg: 'DIR', default: '.cache/crab-ser', help: 'feature cache' },
  quiet: { type: 'boolean', help: 'no progress output' },
} satisfies FlagTable;

/** `crab demo`. */
export const demoCommand: Command = {
  summary: 'the MLCS ablation on the embedded synthetic corpus, with statistics and a report',
  usage: 'crab demo [options]',
  description: `For both conditions of the synthetic bimodal corpus: caches tiny WavLM/RoBERTa features, then
trains Crab (MLCS on all five layers + weighted CE) and five variants (contrastive at the final
layer only, no contrastive loss, unweighted CE, audio only, text only) under speaker-fold
cross-validation, and writes <out>/report.html and <out>/results.json: means with 95% intervals,
paired tests against Crab, loss curves, PCA pictures of the layers and confusion matrices.`,
  flags: FLAGS,
  async run(argv) {
    const { values } = parseFlags('demo', FLAGS, argv);
    const conditions = values.conditions!.split(',').map((c) => c.trim());
    for (const c of conditions) if (c !== 'acted' && c !== 'natural') usage(`demo: --conditions: "${c}" is not allowed: expected acted and/or natural`);
    if (values.folds! > 6) usage(`demo: --folds: ${values.folds} is not allowed: expected 2–6 (8 speakers; each fold needs a dev speaker and training speakers)`);
    await initDevice();
    await runDemo({
      conditions: [...new Set(conditions)] as Condition[], size: values.size!, epochs: values.epochs!, folds: values.folds!, seeds: values.seeds!,
      out: values.out!, cacheDir: values['cache-dir']!, quiet: values.quiet,
    });
  },
};
