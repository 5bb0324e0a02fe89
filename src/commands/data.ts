/**
 * `crab data check`: a corpus as its loader sees it, with every skipped item and why.
 * @module
 */
import { parseArgs } from 'node:util';
import { loadDataset, checkDataset, formatDataReport } from '../data/corpora.js';
import { usage, int, type Command } from './common.js';

/** `crab data`. */
export const dataCommand: Command = {
  summary: 'check a corpus: counts per class and split, missing files, durations',
  device: false,
  help: `crab data check --dataset iemocap|meld|msp-podcast|manifest --data-dir DIR|FILE [--fold K]
Loads the corpus with its standard protocol and prints counts per class and split, missing or
unreadable audio, empty transcripts, WAV durations and every skipped item with its file and line.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { dataset: { type: 'string' }, 'data-dir': { type: 'string' }, fold: { type: 'string' } } });
    if (positionals[0] !== 'check') usage('usage: crab data check --dataset NAME --data-dir DIR');
    if (!values.dataset || !values['data-dir']) usage('--dataset and --data-dir are required');
    const ds = loadDataset(values.dataset, values['data-dir'], { fold: values.fold ? int('--fold', values.fold) : undefined });
    console.log(formatDataReport(ds, checkDataset(ds)));
  },
};
