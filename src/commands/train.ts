/**
 * `crab train`: Crab on cached features of frozen encoders, or end to end with `--finetune`;
 * synthetic or real corpora. Settings come from one schema (`src/train/config.ts`): the corpus'
 * defaults, then a YAML/JSON config file, then flags; everything is checked — flags, config keys,
 * the corpus, the run folder — before the GPU is opened.
 * @module
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { initDevice } from '../tensor/device.js';
import { SYNTHETIC_LABELS } from '../data/synthetic.js';
import type { Utterance } from '../data/utterance.js';
import { encodersFor, type Encoders, type EncoderSpec } from '../data/encoders.js';
import { syntheticFeatures } from '../data/features.js';
import { corpusFeatures } from '../data/feature_cache.js';
import { loadDataset, DATASETS, type Dataset, type DatasetName } from '../data/corpora.js';
import { train, evaluate, loadBest, resolveTrainConfig, differences, checkRunDir, RunFolderError, type TrainConfig, type TrainState } from '../train/trainer.js';
import { checkTrainConfig, checkTrainRules, METRICS, SYNTHETIC_DEFAULTS } from '../train/config.js';
import { readState } from '../train/run_checkpoint.js';
import { trainEndToEnd } from '../train/finetune.js';
import { loadRun, evaluateRun } from '../train/run.js';
import { crossValidateIemocap } from '../train/cross_validate.js';
import type { Metrics } from '../train/metrics.js';
import { parseFlags, configFromFlags, flagForKey, givenFlags, type FlagTable, type Flags } from '../util/flags.js';
import { usage, fetchModel, formatScores, type Command } from './common.js';
import { printJson, scoresJson, type TrainJson } from './json.js';

const FLAGS = {
  dataset: { type: 'enum', values: DATASETS, required: true, help: 'the corpus' },
  'data-dir': { type: 'string', arg: 'DIR|FILE', help: 'the corpus folder (manifest: the CSV/JSONL file)' },
  fold: { type: 'enum', values: ['1', '2', '3', '4', '5', 'all'], arg: 'K|all', help: 'IEMOCAP leave-one-session-out fold (default 1); all: the five folds, WA and UA per fold and averaged' },
  labels: { type: 'string', arg: 'A,B,…', help: 'manifest: the declared label set, in order (a row outside it is an error)' },
  'test-set': { type: 'string', arg: 'TestN', help: 'msp-podcast: the test set used as the test split (default Test1)' },
  wavlm: { type: 'string', arg: 'DIR|org/name', help: 'WavLM checkpoint (Hugging Face folder or cached id); real corpora' },
  roberta: { type: 'string', arg: 'DIR|org/name', help: 'RoBERTa checkpoint with its tokenizer; real corpora' },
  'max-seconds': { type: 'number', min: 0.025, arg: 'S', default: 12, help: 'truncate audio' },
  normalize: { type: 'boolean', help: 'z-normalize each waveform (WavLM-large)' },
  condition: { type: 'enum', values: ['natural', 'acted'], default: 'natural', help: 'synthetic corpus condition' },
  size: { type: 'int', min: 40, default: 480, help: 'synthetic corpus size' },
  config: { type: 'string', arg: 'FILE.yaml|.json', help: 'settings: any keys of the training config (flags override them); see the README' },
  epochs: { type: 'int', key: 'epochs', help: 'epochs (default 20; synthetic 8)' },
  'batch-size': { type: 'int', key: 'batchSize', help: 'utterances per batch (default 32)' },
  lr: { type: 'number', key: 'lr', help: "the head's peak learning rate (default 1e-3; synthetic 3e-3)" },
  'weight-decay': { type: 'number', key: 'weightDecay', help: 'AdamW weight decay (default 0.01)' },
  seed: { type: 'int', min: 0, key: 'seed', help: 'seed of the head, shuffling and dropout (default 42)' },
  'max-grad-norm': { type: 'number', key: 'maxGradNorm', help: 'global-norm gradient clipping (default 0: off)' },
  accumulation: { type: 'int', key: 'accumulation', help: 'micro-batches per optimizer step (default 1)' },
  'best-metric': { type: 'enum', values: METRICS, key: 'bestMetric', help: "the dev metric that picks the best checkpoint (default: the corpus' metric)" },
  hidden: { type: 'int', key: 'crab.hidden', help: 'head width: projections and GRU (default 512; synthetic 32; even)' },
  'no-mlcs': { type: 'boolean', key: 'crab.mlcsLayers', sets: [], help: 'train the baseline without contrastive supervision' },
  finetune: { type: 'boolean', key: 'finetune', help: "train WavLM and RoBERTa with the head (WavLM's conv encoder frozen); slow on a CPU" },
  'encoder-lr-scale': { type: 'number', key: 'encoderLrScale', help: "encoders' learning rate as a fraction of --lr (default 0.1)" },
  'hidden-dropout': { type: 'number', min: 0, key: 'encoders.wavlm.hidden_dropout', help: "--finetune: WavLM's hidden_dropout (encoder input, attention and feed-forward outputs); default: its config.json" },
  'attention-dropout': { type: 'number', min: 0, key: 'encoders.wavlm.attention_dropout', help: "--finetune: WavLM's dropout on the attention weights" },
  'activation-dropout': { type: 'number', min: 0, key: 'encoders.wavlm.activation_dropout', help: "--finetune: WavLM's dropout after the feed-forward activation" },
  'feat-proj-dropout': { type: 'number', min: 0, key: 'encoders.wavlm.feat_proj_dropout', help: "--finetune: WavLM's dropout after the feature projection" },
  layerdrop: { type: 'number', min: 0, key: 'encoders.wavlm.layerdrop', help: "--finetune: WavLM's LayerDrop probability" },
  'mask-time-prob': { type: 'number', min: 0, key: 'encoders.wavlm.mask_time_prob', help: '--finetune: SpecAugment time masking (share of frames as span starts)' },
  'mask-time-length': { type: 'int', key: 'encoders.wavlm.mask_time_length', help: '--finetune: SpecAugment time span, frames' },
  'mask-feature-prob': { type: 'number', min: 0, key: 'encoders.wavlm.mask_feature_prob', help: '--finetune: SpecAugment feature (channel) masking' },
  'mask-feature-length': { type: 'int', key: 'encoders.wavlm.mask_feature_length', help: '--finetune: SpecAugment feature span, channels' },
  'text-hidden-dropout': { type: 'number', min: 0, key: 'encoders.roberta.hidden_dropout_prob', help: "--finetune: RoBERTa's hidden_dropout_prob" },
  'text-attention-dropout': { type: 'number', min: 0, key: 'encoders.roberta.attention_probs_dropout_prob', help: "--finetune: RoBERTa's attention_probs_dropout_prob" },
  'layer-weighted-sum': { type: 'boolean', key: 'layerWeightedSum', help: 'feed the head a learned softmax-weighted sum of every hidden state' },
  'cross-modal-layers': { type: 'int', min: 0, key: 'crab.crossModalLayers', help: 'N cross-modal transformer layers in place of the cross-attention block (default 0)' },
  'run-dir': { type: 'string', arg: 'DIR', default: 'runs/train', help: 'the run folder' },
  resume: { type: 'boolean', help: "continue <run-dir>/last exactly, with the run's own settings" },
  overwrite: { type: 'boolean', help: 'replace a run already in <run-dir>' },
  'cache-dir': { type: 'string', arg: 'DIR', default: '.cache/crab-ser', help: 'feature cache' },
  json: { type: 'boolean', help: 'print the final scores as one JSON document (TrainJson) on stdout' },
} satisfies FlagTable;

type TrainFlags = Flags<typeof FLAGS>;

/** Objects merged key by key (later wins), arrays and values replaced. */
function deepMerge(...parts: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p ?? {})) {
      const prev = out[k];
      out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
    }
  }
  return out;
}

/** Reads a YAML or JSON config file into a mapping, or a usage error naming the file. */
function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) usage(`train: --config: ${file} not found`);
  const isYaml = /\.ya?ml$/i.test(file);
  let cfg: unknown;
  try {
    cfg = isYaml ? YAML.parse(readFileSync(file, 'utf8')) : JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    usage(`train: ${file}: not valid ${isYaml ? 'YAML' : 'JSON'} (${(e as Error).message.split('\n')[0]})`);
  }
  if (cfg === null || cfg === undefined) return {};
  if (typeof cfg !== 'object' || Array.isArray(cfg)) usage(`train: ${file}: expected a mapping of settings (key: value)`);
  return cfg as Record<string, unknown>;
}

const has = (obj: Record<string, unknown>, path: readonly PropertyKey[]): boolean => {
  let v: unknown = obj;
  for (const k of path) {
    if (!v || typeof v !== 'object' || !(k as string in (v as object))) return false;
    v = (v as Record<string, unknown>)[k as string];
  }
  return true;
};

/** The training plan: settings merged and checked, corpus identified, run folder checked. */
interface Plan {
  cfg: Partial<TrainConfig>;
  resolved: TrainConfig;
  dataset: DatasetName;
  corpus: string;
  ds: Dataset | null;
}

/**
 * Everything that can be checked without the GPU: flags, the config file and its keys, the rules
 * that tie keys together, the corpus files, and what the run folder holds.
 */
function plan(values: TrainFlags, argv: string[]): Plan {
  const dataset = values.dataset as DatasetName;
  if (dataset !== 'synthetic') {
    if (!values['data-dir']) usage(`train: --data-dir is required for ${dataset}`);
    if (!values.wavlm || !values.roberta) usage('train: --wavlm and --roberta (Hugging Face folders or cached ids) are required for real corpora');
  }
  if (values.fold && dataset !== 'iemocap') usage(`train: --fold is for iemocap, not ${dataset}`);
  if (values.fold === 'all' && values.finetune) usage('train: --fold all runs on cached features; with --finetune train the folds one by one (--fold 1 … --fold 5)');
  if (values.fold === 'all' && values.resume) usage('train: --fold all cannot --resume; resume a fold with --fold K --run-dir <run-dir>/foldK');
  const file = values.config ? readConfigFile(values.config) : {};
  const fileCfg = checkTrainConfig(file, (p) => `${values.config}: ${p.map(String).join('.')}`);
  const flagCfg = configFromFlags(FLAGS, values, givenFlags(argv));
  const flagged = checkTrainConfig(flagCfg, (p) => flagForKey(FLAGS, p) ?? p.join('.'));
  const where = (p: readonly PropertyKey[]): string =>
    has(flagCfg, p) ? flagForKey(FLAGS, p)! : has(file, p) ? `${values.config}: ${p.map(String).join('.')}` : `${p.map(String).join('.')} (default)`;
  // The corpus is loaded now: a missing folder or a bad manifest row stops here, before the GPU.
  let ds: Dataset | null = null;
  if (dataset !== 'synthetic') {
    try {
      ds = loadDataset(dataset, values['data-dir']!, { fold: values.fold && values.fold !== 'all' ? Number(values.fold) : undefined, labels: values.labels?.split(',').map((l) => l.trim()), testSet: values['test-set'] });
    } catch (e) {
      usage(`train: ${(e as Error).message}`);
    }
  }
  const corpus = dataset === 'synthetic' ? `synthetic-${values.condition}-${values.size}` : `${dataset}:${resolve(values['data-dir']!)}${values.fold && values.fold !== 'all' ? `:fold${values.fold}` : ''}`;
  const runDir = values['run-dir']!;
  let base: Record<string, unknown>;
  checkRunDir({ runDir, resume: values.resume, overwrite: values.overwrite });
  if (values.resume) {
    const saved = readState<TrainState>(join(runDir, 'last'));
    if (saved.corpus && saved.corpus !== corpus) throw new RunFolderError(`${runDir}: --resume on another corpus: the run trained on ${saved.corpus}, this is ${corpus}`);
    base = saved.config as unknown as Record<string, unknown>;
    const merged = resolveTrainConfig(deepMerge(base, fileCfg as Record<string, unknown>, flagged as Record<string, unknown>) as Partial<TrainConfig>);
    const diff = differences(resolveTrainConfig(saved.config), merged).map((d) => `config ${d}`);
    if (diff.length) throw new RunFolderError(`${runDir}: --resume with other settings than the run was started with: ${diff.join('; ')}. Resume with the run's own settings (give none), or start a new run.`);
  } else {
    base = deepMerge(dataset === 'synthetic' ? SYNTHETIC_DEFAULTS : {}, ds ? { bestMetric: ds.primaryMetric } : {});
  }
  const cfg = deepMerge(base, fileCfg as Record<string, unknown>, flagged as Record<string, unknown>) as Partial<TrainConfig>;
  const resolved = resolveTrainConfig(cfg);
  checkTrainRules(resolved, where);
  return { cfg, resolved, dataset, corpus, ds };
}

/** `crab train`. */
export const trainCommand: Command = {
  summary: 'train Crab on a corpus (synthetic, iemocap, meld, msp-podcast, manifest)',
  usage: 'crab train --dataset NAME [options]',
  description: `Trains the Crab head on cached features of frozen encoders (default), or with --finetune the head
and both encoders end to end; checkpoints go to <run-dir>/last and <run-dir>/best (by
--best-metric), the settings to <run-dir>/run.json, the log to <run-dir>/log.jsonl. Ctrl-C
saves; --resume continues exactly. At the end the best checkpoint is scored on the test split.
Defaults fit the corpus: the synthetic corpus gets the demo's small head (hidden 32, 8 epochs,
lr 3e-3), real corpora the authors' head (hidden 512, 20 epochs, lr 1e-3).`,
  flags: FLAGS,
  async run(argv) {
    const { values } = parseFlags('train', FLAGS, argv);
    const p = plan(values, argv);
    const runDir = values['run-dir']!;
    const o = { runDir, resume: values.resume, overwrite: values.overwrite, corpus: p.corpus, quiet: false };
    const c = p.resolved;
    process.stderr.write(`train: ${p.corpus}, head hidden ${c.crab.hidden ?? 512}, ${c.epochs} epochs of batch ${c.batchSize}, lr ${c.lr}${c.finetune ? ', encoders fine-tuned' : ''} → ${runDir}${values.resume ? ' (resumed)' : ''}\n`);
    await initDevice();
    if (p.resolved.finetune) return finetune(values, p, o);
    const maxSeconds = values['max-seconds']!;
    if (values.fold === 'all') {
      const enc = { wavlm: await fetchModel(values.wavlm!, []), roberta: await fetchModel(values.roberta!, ['vocab.json', 'merges.txt']), cacheDir: values['cache-dir']!, maxSeconds, normalize: values.normalize };
      const rows = await crossValidateIemocap(values['data-dir']!, runDir, p.cfg, enc, [1, 2, 3, 4, 5], false, values.overwrite);
      const avg = (k: 'wa' | 'ua'): number => rows.reduce((s, r) => s + r[k], 0) / rows.length;
      if (values.json) return printJson({ runDir, best: null, folds: rows, average: { wa: avg('wa'), ua: avg('ua') } } satisfies TrainJson);
      for (const r of rows) console.log(`fold ${r.fold} (test = Session${r.fold}): WA ${(100 * r.wa).toFixed(1)}  UA ${(100 * r.ua).toFixed(1)}`);
      console.log(`average over ${rows.length} folds: WA ${(100 * avg('wa')).toFixed(1)}  UA ${(100 * avg('ua')).toFixed(1)}`);
      return;
    }
    let features;
    let labels: string[];
    let encoders: EncoderSpec;
    if (p.dataset === 'synthetic') {
      const condition = values.condition as 'natural' | 'acted';
      features = await syntheticFeatures({ condition, size: values.size!, cacheDir: values['cache-dir']!, allLayers: p.resolved.layerWeightedSum });
      labels = [...SYNTHETIC_LABELS];
      encoders = { kind: 'synthetic', condition, size: values.size! };
    } else {
      const ds = p.ds!;
      if (ds.issues.length) console.error(`${ds.name}: ${ds.issues.length} issue(s); run \`crab data check\` for the list`);
      const wavlm = await fetchModel(values.wavlm!, []);
      const roberta = await fetchModel(values.roberta!, ['vocab.json', 'merges.txt']);
      const r = await corpusFeatures(ds, { wavlm, roberta, cacheDir: values['cache-dir']!, maxSeconds, normalize: values.normalize, allLayers: p.resolved.layerWeightedSum });
      for (const s of r.skipped.slice(0, 10)) console.error(`skipped ${s.id}: ${s.reason}`);
      if (r.skipped.length) console.error(`${r.skipped.length} utterance(s) skipped (unreadable audio)`);
      features = r.features;
      labels = ds.labels;
      encoders = { kind: 'hf', wavlm, roberta, maxSeconds, normalize: values.normalize };
    }
    const st = await train(features, labels, p.cfg, { ...o, encoders });
    const test = features.items.filter((i) => i.split === 'test');
    const m = test.length ? (await evaluate(loadBest(runDir).crab, test, st, labels.length)).metrics : null;
    report(values.json, runDir, st, m, labels);
  },
};

/** The final lines (or the JSON document) of a training run. */
function report(json: boolean, runDir: string, st: TrainState, m: Metrics | null, labels: string[]): void {
  if (json) {
    printJson({ runDir, best: st.best, ...(m ? { test: scoresJson(m, labels) } : {}) } satisfies TrainJson);
    return;
  }
  console.log(`best dev ${st.best?.metric} ${((st.best?.value ?? 0) * 100).toFixed(1)} at epoch ${st.best?.epoch}; checkpoints in ${runDir}`);
  if (m) console.log(`test: ${formatScores(m)}`);
}

/** `crab train --finetune`: the head and both encoders end to end, on raw audio and text. */
async function finetune(values: TrainFlags, p: Plan, o: { runDir: string; resume: boolean; overwrite: boolean; corpus: string }): Promise<void> {
  let utts: Utterance[];
  let labels: string[];
  let spec: EncoderSpec;
  let enc: Encoders;
  if (p.dataset === 'synthetic') {
    spec = { kind: 'synthetic', condition: values.condition as 'natural' | 'acted', size: values.size! };
    const e = encodersFor(spec, p.resolved.encoders);
    enc = e;
    utts = e.utts!;
    labels = [...SYNTHETIC_LABELS];
  } else {
    const ds = p.ds!;
    if (ds.issues.length) console.error(`${ds.name}: ${ds.issues.length} issue(s); run \`crab data check\` for the list`);
    spec = {
      kind: 'hf', wavlm: await fetchModel(values.wavlm!, []), roberta: await fetchModel(values.roberta!, ['vocab.json', 'merges.txt']),
      maxSeconds: values['max-seconds']!, normalize: values.normalize,
    };
    enc = encodersFor(spec, p.resolved.encoders);
    utts = ds.utterances;
    labels = ds.labels;
  }
  const st = await trainEndToEnd(utts, labels, p.cfg, { ...o, encoders: spec }, enc);
  const test = utts.filter((u) => u.split === 'test');
  const m = test.length ? await evaluateRun(loadRun(o.runDir), test, (u, why) => console.error(`skipped ${u.id}: ${why}`)) : null;
  report(values.json, o.runDir, st, m, labels);
}
