/**
 * `crab predict`: one utterance through a trained run.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initDevice } from '../tensor/device.js';
import { predictOne } from '../train/run.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { usage, type Command } from './common.js';
import { printJson, type PredictJson } from './json.js';

const FLAGS = {
  run: { type: 'string', arg: 'DIR', required: true, help: 'a run folder (crab train or demo) with a best/ checkpoint' },
  text: { type: 'string', arg: 'TEXT', default: '', help: 'the transcript' },
  json: { type: 'boolean', help: 'print one JSON document (PredictJson) on stdout' },
} satisfies FlagTable;

/** `crab predict`. */
export const predictCommand: Command = {
  summary: 'the emotion of one audio file (and its transcript) with a trained run',
  usage: 'crab predict AUDIO --run DIR [--text "transcript"] [--json]',
  description: `Predicts the emotion of one utterance with a run's best checkpoint: the run's encoders (recorded
in its checkpoint) turn the audio and text into features, the Crab head gives the label and the
class probabilities.`,
  flags: FLAGS,
  async run(argv) {
    const { values, positionals } = parseFlags('predict', FLAGS, argv, { positionals: true });
    if (positionals.length !== 1) usage(`predict: give exactly one audio file (got ${positionals.length})`);
    const file = positionals[0]!;
    if (!existsSync(file)) usage(`predict: ${file}: no such file`);
    const run = values.run!;
    if (!existsSync(join(run, 'best', 'state.json'))) usage(`predict: ${run} has no best/ checkpoint (a folder written by crab train or crab demo)`);
    await initDevice();
    const r = await predictOne(run, file, values.text ?? '');
    if (values.json) printJson({ file, label: r.label, probabilities: r.probabilities } satisfies PredictJson);
    else {
      console.log(`${r.label}`);
      for (const [k, v] of Object.entries(r.probabilities)) console.log(`  ${k.padEnd(12)} ${(100 * v).toFixed(1)}%`);
    }
  },
};
