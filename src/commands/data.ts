/**
 * `crab data check`: a corpus as its loader sees it, with every skipped item and why. Needs no GPU.
 * @module
 */
import { loadDataset, checkDataset, formatDataReport, DATASETS, type Dataset, type DataReport, type DatasetName } from '../data/corpora.js';
import { existsSync } from 'node:fs';
import { probeCorpus } from '../data/probe.js';
import { Progress } from '../util/progress.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { usage, type Command } from './common.js';
import { printJson, type DataCheckJson } from './json.js';

const FLAGS = {
  dataset: { type: 'enum', values: DATASETS, required: true, help: 'the corpus' },
  'data-dir': { type: 'string', arg: 'DIR|FILE', help: 'the corpus folder (manifest: the CSV/JSONL file); not for synthetic' },
  fold: { type: 'int', arg: 'K', help: 'IEMOCAP leave-one-session-out fold, 1–5', default: 1 },
  labels: { type: 'string', arg: 'A,B,…', help: 'manifest: the declared label set, in order (a row outside it is an error)' },
  'test-set': { type: 'string', arg: 'TestN', help: 'msp-podcast: the test set used as the test split (default Test1)' },
  condition: { type: 'enum', values: ['natural', 'acted'], default: 'natural', help: 'synthetic: the corpus condition' },
  size: { type: 'int', default: 480, help: 'synthetic: utterances' },
  'headers-only': { type: 'boolean', help: 'do not decode the clips: check they exist and read WAV headers only (fast)' },
  jobs: { type: 'int', arg: 'N', help: 'clips decoded at once (default: the CPU count)' },
  json: { type: 'boolean', help: 'print one JSON document (DataCheckJson) on stdout' },
} satisfies FlagTable;

/** The report as the JSON document. */
function toJson(ds: Dataset, r: DataReport): DataCheckJson {
  const perClass = Object.fromEntries(ds.labels.map((l) => [l, 0]));
  const perSplit: Record<string, number> = {};
  for (const [split, row] of Object.entries(r.counts)) {
    perSplit[split] = Object.values(row).reduce((a, b) => a + b, 0);
    for (const [l, n] of Object.entries(row)) perClass[l]! += n;
  }
  const byPath = new Map(ds.utterances.map((u) => [u.audioPath, u.id]));
  return {
    dataset: ds.name, labels: ds.labels, primaryMetric: ds.primaryMetric, counts: r.counts,
    totals: { utterances: ds.utterances.length - r.undecodable.length, perClass, perSplit },
    missing: r.missingAudio.map((file) => ({ id: byPath.get(file) ?? file, file, reason: 'audio file not found' })),
    undecodable: r.undecodable, decoded: r.decoded,
    emptyTranscripts: r.emptyText, seconds: r.seconds, ...(r.groups ? { groups: r.groups } : {}),
    skipped: r.issues.map((i) => ({ file: i.file, ...(i.line ? { line: i.line } : {}), reason: i.problem })),
  };
}

/** `crab data`. */
export const dataCommand: Command = {
  summary: 'check a corpus: counts per class and split, missing files, durations',
  usage: 'crab data check --dataset NAME [--data-dir DIR|FILE] [options]',
  description: `Loads the corpus with its standard protocol, decodes every clip (several at a time, with
progress; --headers-only skips that) and prints counts per class and split, missing audio, clips
that exist but do not decode (left out of the counts, as training leaves them out), empty
transcripts, durations and every skipped item with its file and line. Needs no GPU.`,
  flags: FLAGS,
  async run(argv) {
    const { values, positionals } = parseFlags('data', FLAGS, argv, { positionals: true });
    if (positionals[0] !== 'check' || positionals.length > 1) usage(`data: expected \`crab data check\`, got \`crab data ${positionals.join(' ')}\``);
    const name = values.dataset as DatasetName;
    if (name !== 'synthetic' && !values['data-dir']) usage(`data: --data-dir is required for ${name}`);
    if (values.fold !== undefined && (values.fold < 1 || values.fold > 5)) usage(`data: --fold: ${values.fold} is not allowed: expected 1–5`);
    const ds = loadDataset(name, values['data-dir'] ?? '', {
      fold: values.fold, labels: values.labels?.split(',').map((l) => l.trim()), testSet: values['test-set'], condition: values.condition as 'natural' | 'acted', size: values.size,
    });
    const clips = ds.utterances.filter((u) => u.audioPath).length;
    const bar = values.json || !clips || values['headers-only'] ? null : new Progress('decoding clips', clips);
    const probe = values['headers-only'] || !clips ? undefined
      : await probeCorpus(ds.utterances, { concurrency: values.jobs, include: (f) => existsSync(f), onProgress: (d) => bar?.update(d) });
    const report = checkDataset(ds, probe);
    if (values.json) printJson(toJson(ds, report));
    else console.log(formatDataReport(ds, report));
  },
};
