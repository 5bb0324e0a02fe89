/**
 * `crab predict`: one utterance through a trained run.
 * @module
 */
import { parseArgs } from 'node:util';
import { predictOne } from '../train/run.js';
import { usage, type Command } from './common.js';

/** `crab predict`. */
export const predictCommand: Command = {
  summary: 'the emotion of one audio file (and its transcript) with a trained run',
  device: true,
  help: `crab predict <audio file> --run DIR [--text "transcript"] [--json]
Predicts the emotion of one utterance with a run's best checkpoint: the run's encoders (recorded
in its checkpoint) turn the audio and text into features, the Crab head gives the label and the
class probabilities. --json prints {"label", "probabilities": {class: p}}.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { run: { type: 'string' }, text: { type: 'string', default: '' }, json: { type: 'boolean', default: false } } });
    if (!values.run) usage('--run DIR is required');
    if (positionals.length !== 1) usage('give exactly one audio file');
    const r = await predictOne(values.run, positionals[0]!, values.text);
    if (values.json) console.log(JSON.stringify({ label: r.label, probabilities: r.probabilities }));
    else {
      console.log(`${r.label}`);
      for (const [k, v] of Object.entries(r.probabilities)) console.log(`  ${k.padEnd(12)} ${(100 * v).toFixed(1)}%`);
    }
  },
};
