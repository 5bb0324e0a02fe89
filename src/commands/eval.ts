/**
 * `crab eval`: a run's best checkpoint scored on a split of the synthetic corpus it was trained on.
 * @module
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { syntheticEncoders } from '../data/encoders.js';
import { syntheticFeatures } from '../data/features.js';
import { loadRun, evaluateRun } from '../train/run.js';
import { evaluate } from '../train/trainer.js';
import type { Metrics } from '../train/metrics.js';
import { metricsTable, confusionChart, writeReport } from '../report/report.js';
import { usage, int, formatScores, type Command } from './common.js';

/** `crab eval`. */
export const evalCommand: Command = {
  summary: "evaluate a run's best checkpoint on its test split",
  device: true,
  help: `crab eval --run DIR [--split test|dev] [--size N] [--condition natural|acted]
Evaluates <DIR>/best on a split of the synthetic corpus it was trained on (condition and size as
recorded in the run unless given); prints WA, UA, macro-F1, weighted-F1 and the confusion matrix,
and writes <DIR>/eval-<split>.html. A fine-tuned run is scored with its own fine-tuned encoders.`,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { run: { type: 'string' }, split: { type: 'string', default: 'test' }, size: { type: 'string' }, condition: { type: 'string' }, 'cache-dir': { type: 'string', default: '.cache/crab-ser' } } });
    if (!values.run) usage('--run DIR is required');
    const run = loadRun(values.run, false);
    const { state } = run;
    const recorded = state.encoders?.kind === 'synthetic' ? state.encoders : null;
    if (state.encoders && !recorded) usage(`${values.run} was trained on ${state.encoders.kind === 'hf' ? 'a real corpus' : 'another corpus'}; crab eval scores synthetic runs (real-corpus runs print their test scores at the end of crab train)`);
    const condition = values.condition ? (values.condition === 'acted' ? 'acted' : 'natural') : recorded?.condition ?? 'natural';
    const size = values.size ? int('--size', values.size) : recorded?.size ?? 480;
    let m: Metrics;
    if (state.config.finetune) {
      const items = syntheticEncoders(condition, size).utts.filter((u) => u.split === values.split);
      if (!items.length) usage(`split "${values.split}" is empty`);
      m = await evaluateRun(run, items);
    } else {
      const features = await syntheticFeatures({ condition, size, cacheDir: values['cache-dir'], quiet: true, allLayers: (state.speechLayers ?? 1) > 1 });
      const items = features.items.filter((i) => i.split === values.split);
      if (!items.length) usage(`split "${values.split}" is empty`);
      m = (await evaluate(run.crab, items, state, state.labels.length)).metrics;
    }
    console.log(formatScores(m));
    console.log(`confusion (rows true, columns predicted; ${state.labels.join(', ')}):`);
    for (const r of m.confusion) console.log(`  ${r.map((v) => String(v).padStart(4)).join('')}`);
    writeReport(join(values.run, `eval-${values.split}.html`), `crab eval — ${values.run} (${values.split})`, [
      { heading: 'Metrics', html: metricsTable([{ name: values.split, m }]) }, { heading: 'Confusion matrix', html: confusionChart(m.confusion, state.labels) },
    ]);
  },
};
