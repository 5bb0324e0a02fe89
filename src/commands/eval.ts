/**
 * `crab eval`: a run's best checkpoint scored on a split of the synthetic corpus it was trained on.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initDevice } from '../tensor/device.js';
import { syntheticEncoders } from '../data/encoders.js';
import { syntheticFeatures } from '../data/features.js';
import { loadRun, evaluateRun } from '../train/run.js';
import { readState } from '../train/run_checkpoint.js';
import { evaluate, type TrainState } from '../train/trainer.js';
import type { Metrics } from '../train/metrics.js';
import { metricsTable, confusionChart, writeReport } from '../report/report.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { usage, formatScores, type Command } from './common.js';
import { printJson, scoresJson, type EvalJson } from './json.js';

const FLAGS = {
  run: { type: 'string', arg: 'DIR', required: true, help: 'a run folder with a best/ checkpoint' },
  split: { type: 'enum', values: ['test', 'dev', 'train'], default: 'test', help: 'the split to score' },
  condition: { type: 'enum', values: ['natural', 'acted'], help: 'the synthetic condition (default: as recorded in the run)' },
  size: { type: 'int', help: 'the synthetic corpus size (default: as recorded in the run)' },
  'cache-dir': { type: 'string', arg: 'DIR', default: '.cache/crab-ser', help: 'feature cache' },
  json: { type: 'boolean', help: 'print one JSON document (EvalJson) on stdout' },
} satisfies FlagTable;

/** `crab eval`. */
export const evalCommand: Command = {
  summary: "evaluate a run's best checkpoint on its test split",
  usage: 'crab eval --run DIR [--split test|dev] [options]',
  description: `Evaluates <DIR>/best on a split of the synthetic corpus it was trained on (condition and size as
recorded in the run unless given); prints WA, UA, macro-F1, weighted-F1 and the confusion matrix,
and writes <DIR>/eval-<split>.html. A fine-tuned run is scored with its own fine-tuned encoders.
Real-corpus runs print their test scores at the end of crab train.`,
  flags: FLAGS,
  async run(argv) {
    const { values } = parseFlags('eval', FLAGS, argv);
    const dir = values.run!;
    if (!existsSync(join(dir, 'best', 'state.json'))) usage(`eval: ${dir} has no best/ checkpoint (a folder written by crab train or crab demo)`);
    const state = readState<TrainState>(join(dir, 'best'));
    const recorded = state.encoders?.kind === 'synthetic' ? state.encoders : null;
    if (state.encoders && !recorded) usage(`eval: ${dir} was trained on a real corpus; crab eval scores synthetic runs (real-corpus runs print their test scores at the end of crab train)`);
    const condition = (values.condition as 'natural' | 'acted' | undefined) ?? recorded?.condition ?? 'natural';
    const size = values.size ?? recorded?.size ?? 480;
    const split = values.split!;
    await initDevice();
    const run = loadRun(dir, false);
    let m: Metrics;
    if (state.config.finetune) {
      const items = syntheticEncoders(condition, size).utts.filter((u) => u.split === split);
      if (!items.length) usage(`eval: split "${split}" is empty`);
      m = await evaluateRun(run, items);
    } else {
      const features = await syntheticFeatures({ condition, size, cacheDir: values['cache-dir']!, quiet: true, allLayers: (state.speechLayers ?? 1) > 1 });
      const items = features.items.filter((i) => i.split === split);
      if (!items.length) usage(`eval: split "${split}" is empty`);
      m = (await evaluate(run.crab, items, state, state.labels.length)).metrics;
    }
    const report = join(dir, `eval-${split}.html`);
    writeReport(report, `crab eval — ${dir} (${split})`, [
      { heading: 'Metrics', html: metricsTable([{ name: split, m }]) }, { heading: 'Confusion matrix', html: confusionChart(m.confusion, state.labels) },
    ]);
    if (values.json) {
      printJson({ run: dir, split, scores: scoresJson(m, state.labels), report } satisfies EvalJson);
      return;
    }
    console.log(formatScores(m));
    console.log(`confusion (rows true, columns predicted; ${state.labels.join(', ')}):`);
    for (const r of m.confusion) console.log(`  ${r.map((v) => String(v).padStart(4)).join('')}`);
  },
};
