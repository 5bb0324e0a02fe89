/**
 * `crab train`: Crab on cached features of frozen encoders, or end to end with `--finetune`;
 * synthetic or real corpora, a JSON/YAML config with flags that override it, test scores at the end.
 * @module
 */
import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import YAML from 'yaml';
import { SYNTHETIC_LABELS } from '../data/synthetic.js';
import type { Utterance } from '../data/utterance.js';
import { encodersFor, type Encoders, type EncoderSpec } from '../data/encoders.js';
import { syntheticFeatures, corpusFeatures } from '../data/features.js';
import { loadDataset } from '../data/corpora.js';
import { train, evaluate, loadBest, TRAIN_DEFAULTS, type TrainConfig } from '../train/trainer.js';
import { trainEndToEnd } from '../train/finetune.js';
import { loadRun, evaluateRun } from '../train/run.js';
import { crossValidateIemocap } from '../train/cross_validate.js';
import type { Metrics } from '../train/metrics.js';
import { usage, int, num, fetchModel, formatScores, type Command } from './common.js';

/** `crab train`. */
export const trainCommand: Command = {
  summary: 'train Crab on a corpus (synthetic, iemocap, meld, msp-podcast, manifest)',
  device: true,
  help: `crab train --dataset NAME [options]
Trains the Crab head on cached features of frozen encoders (default), or with --finetune the head
and both encoders end to end; checkpoints go to <run-dir>/last and <run-dir>/best (by
--best-metric), the log to <run-dir>/log.jsonl. Ctrl-C saves; --resume continues. At the end the
best checkpoint is scored on the test split.
--dataset synthetic|iemocap|meld|msp-podcast|manifest
--data-dir DIR|FILE          the corpus folder (manifest: the CSV/JSONL file)
--fold K|all                 IEMOCAP leave-one-session-out fold, 1–5 (default 1); all: the five
                             folds, WA and UA per fold and averaged
--wavlm DIR|org/name         WavLM checkpoint (Hugging Face folder or cached id), frozen
--roberta DIR|org/name       RoBERTa checkpoint with its tokenizer, frozen
--max-seconds S              truncate audio (default 12)
--normalize                  z-normalize each waveform (WavLM-large)
--condition natural|acted    synthetic corpus condition (default natural)
--size N                     synthetic corpus size (default 480)
--config FILE.json|.yaml     settings (keys of TrainConfig: epochs, batchSize, lr, weightDecay, lrFloor,
                             warmupSteps, maxGradNorm, accumulation, classWeighting, bestMetric, seed,
                             layerWeightedSum, finetune, encoderLrScale, crab)
--epochs N --batch-size N --lr X --seed N --max-grad-norm X --accumulation N   override the file
--no-mlcs                    train the baseline without contrastive supervision
--finetune                   train WavLM and RoBERTa with the head (WavLM's conv encoder frozen);
                             no feature cache, so every epoch runs the encoders (slow on a CPU)
--encoder-lr-scale X         encoders' learning rate as a fraction of --lr (default 0.1)
--layer-weighted-sum         feed the head a learned softmax-weighted sum of every hidden state
--cross-modal-layers N       replace the cross-attention block by N cross-modal transformer
                             layers (multi-head + FFN; heads and width: crossModalHeads,
                             crossModalFfn in the config's crab section)
--best-metric macroF1|uar|accuracy|weightedF1
--run-dir DIR                (default runs/train)
--resume                     continue from <run-dir>/last exactly
--cache-dir DIR              feature cache (default .cache/crab-ser)`,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: {
      dataset: { type: 'string' }, condition: { type: 'string', default: 'natural' }, size: { type: 'string', default: '480' }, config: { type: 'string' },
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, 'max-grad-norm': { type: 'string' },
      accumulation: { type: 'string' }, 'no-mlcs': { type: 'boolean', default: false }, 'best-metric': { type: 'string' }, 'run-dir': { type: 'string', default: 'runs/train' },
      resume: { type: 'boolean', default: false }, 'cache-dir': { type: 'string', default: '.cache/crab-ser' },
      'data-dir': { type: 'string' }, fold: { type: 'string' }, wavlm: { type: 'string' }, roberta: { type: 'string' },
      'max-seconds': { type: 'string', default: '12' }, normalize: { type: 'boolean', default: false },
      finetune: { type: 'boolean', default: false }, 'encoder-lr-scale': { type: 'string' }, 'layer-weighted-sum': { type: 'boolean', default: false },
      'cross-modal-layers': { type: 'string' },
    } });
    if (!values.dataset) usage('--dataset is required (synthetic, iemocap, meld, msp-podcast, manifest)');
    let cfg: Partial<TrainConfig> = {};
    if (values.config) {
      if (!existsSync(values.config)) usage(`config file ${values.config} not found`);
      const text = readFileSync(values.config, 'utf8');
      const isYaml = /\.ya?ml$/i.test(values.config);
      try {
        cfg = isYaml ? YAML.parse(text) : JSON.parse(text);
      } catch (e) {
        usage(`${values.config}: not valid ${isYaml ? 'YAML' : 'JSON'} (${(e as Error).message})`);
      }
      if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) usage(`${values.config}: expected a mapping of settings`);
      const unknown = Object.keys(cfg).filter((k) => !(k in TRAIN_DEFAULTS));
      if (unknown.length) usage(`${values.config}: unknown key(s) ${unknown.join(', ')}; known: ${Object.keys(TRAIN_DEFAULTS).join(', ')}`);
    }
    if (values.epochs) cfg.epochs = int('--epochs', values.epochs);
    if (values['batch-size']) cfg.batchSize = int('--batch-size', values['batch-size']);
    if (values.lr) cfg.lr = num('--lr', values.lr);
    if (values.seed) cfg.seed = int('--seed', values.seed);
    if (values['max-grad-norm']) cfg.maxGradNorm = num('--max-grad-norm', values['max-grad-norm']);
    if (values.accumulation) cfg.accumulation = int('--accumulation', values.accumulation);
    if (values['best-metric']) cfg.bestMetric = values['best-metric'] as TrainConfig['bestMetric'];
    if (values['no-mlcs']) cfg.crab = { ...cfg.crab, mlcsLayers: [] };
    if (values.finetune) cfg.finetune = true;
    if (values['encoder-lr-scale']) cfg.encoderLrScale = num('--encoder-lr-scale', values['encoder-lr-scale']);
    if (values['layer-weighted-sum']) cfg.layerWeightedSum = true;
    if (values['cross-modal-layers']) cfg.crab = { ...cfg.crab, crossModalLayers: int('--cross-modal-layers', values['cross-modal-layers']) };
    if (cfg.finetune) {
      await finetuneCommand(values, cfg);
      return;
    }
    let features;
    let labels: string[];
    if (values.dataset === 'synthetic') {
      const condition = values.condition === 'acted' ? 'acted' : 'natural';
      features = await syntheticFeatures({ condition, size: int('--size', values.size), cacheDir: values['cache-dir'], allLayers: cfg.layerWeightedSum });
      labels = [...SYNTHETIC_LABELS];
    } else {
      if (!values['data-dir']) usage(`--data-dir is required for ${values.dataset}`);
      if (!values.wavlm || !values.roberta) usage('--wavlm and --roberta (Hugging Face folders or cached ids) are required for real corpora');
      if (values.fold === 'all') {
        if (values.dataset !== 'iemocap') usage('--fold all is for iemocap');
        const rows = await crossValidateIemocap(values['data-dir'], values['run-dir'], cfg, { wavlm: values.wavlm, roberta: values.roberta, cacheDir: values['cache-dir'], maxSeconds: num('--max-seconds', values['max-seconds']), normalize: values.normalize });
        for (const r of rows) console.log(`fold ${r.fold} (test = Session${r.fold}): WA ${(100 * r.wa).toFixed(1)}  UA ${(100 * r.ua).toFixed(1)}`);
        const avg = (k: 'wa' | 'ua'): number => rows.reduce((s, r) => s + r[k], 0) / rows.length;
        console.log(`average over ${rows.length} folds: WA ${(100 * avg('wa')).toFixed(1)}  UA ${(100 * avg('ua')).toFixed(1)}`);
        return;
      }
      const ds = loadDataset(values.dataset, values['data-dir'], { fold: values.fold ? int('--fold', values.fold) : undefined });
      if (ds.issues.length) console.error(`${ds.name}: ${ds.issues.length} issue(s); run \`crab data check\` for the list`);
      values.wavlm = await fetchModel(values.wavlm, []);
      values.roberta = await fetchModel(values.roberta, ['vocab.json', 'merges.txt']);
      const r = await corpusFeatures(ds, { wavlm: values.wavlm, roberta: values.roberta, cacheDir: values['cache-dir'], maxSeconds: num('--max-seconds', values['max-seconds']), normalize: values.normalize, allLayers: cfg.layerWeightedSum });
      for (const s of r.skipped.slice(0, 10)) console.error(`skipped ${s.id}: ${s.reason}`);
      if (r.skipped.length) console.error(`${r.skipped.length} utterance(s) skipped (unreadable audio)`);
      features = r.features;
      labels = ds.labels;
      cfg.bestMetric ??= ds.primaryMetric;
    }
    const encoders: EncoderSpec = values.dataset === 'synthetic'
      ? { kind: 'synthetic', condition: values.condition === 'acted' ? 'acted' : 'natural', size: int('--size', values.size) }
      : { kind: 'hf', wavlm: values.wavlm!, roberta: values.roberta!, maxSeconds: num('--max-seconds', values['max-seconds']), normalize: values.normalize };
    const st = await train(features, labels, cfg, { runDir: values['run-dir'], resume: values.resume, encoders });
    console.log(`best dev ${st.best?.metric} ${((st.best?.value ?? 0) * 100).toFixed(1)} at epoch ${st.best?.epoch}; checkpoints in ${values['run-dir']}`);
    const test = features.items.filter((i) => i.split === 'test');
    if (test.length) {
      const { crab } = loadBest(values['run-dir']);
      printTest((await evaluate(crab, test, st, labels.length)).metrics);
    }
  },
};

/** The train command's flags (as parseArgs gives them). */
type Flags = Record<string, string | boolean | undefined>;

/** `crab train --finetune`: the head and both encoders end to end, on raw audio and text. */
async function finetuneCommand(values: Flags, cfg: Partial<TrainConfig>): Promise<void> {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  let utts: Utterance[];
  let labels: string[];
  let spec: EncoderSpec;
  let enc: Encoders;
  if (values.dataset === 'synthetic') {
    const condition = values.condition === 'acted' ? 'acted' : 'natural';
    const size = int('--size', str('size')!);
    spec = { kind: 'synthetic', condition, size };
    const e = encodersFor(spec);
    enc = e;
    utts = e.utts!;
    labels = [...SYNTHETIC_LABELS];
  } else {
    if (!str('data-dir')) usage(`--data-dir is required for ${values.dataset}`);
    if (!str('wavlm') || !str('roberta')) usage('--wavlm and --roberta (Hugging Face folders or cached ids) are required for real corpora');
    if (values.fold === 'all') usage('--fold all runs on cached features; with --finetune train the folds one by one (--fold 1 … --fold 5)');
    const ds = loadDataset(str('dataset')!, str('data-dir')!, { fold: str('fold') ? int('--fold', str('fold')!) : undefined });
    if (ds.issues.length) console.error(`${ds.name}: ${ds.issues.length} issue(s); run \`crab data check\` for the list`);
    spec = {
      kind: 'hf', wavlm: await fetchModel(str('wavlm')!, []), roberta: await fetchModel(str('roberta')!, ['vocab.json', 'merges.txt']),
      maxSeconds: num('--max-seconds', str('max-seconds')!), normalize: !!values.normalize,
    };
    enc = encodersFor(spec);
    utts = ds.utterances;
    labels = ds.labels;
    cfg.bestMetric ??= ds.primaryMetric;
  }
  const runDir = str('run-dir')!;
  const st = await trainEndToEnd(utts, labels, cfg, { runDir, resume: !!values.resume, encoders: spec }, enc);
  console.log(`best dev ${st.best?.metric} ${((st.best?.value ?? 0) * 100).toFixed(1)} at epoch ${st.best?.epoch}; checkpoints (encoders included) in ${runDir}`);
  const test = utts.filter((u) => u.split === 'test');
  if (test.length) printTest(await evaluateRun(loadRun(runDir), test, (u, why) => console.error(`skipped ${u.id}: ${why}`)));
}

function printTest(m: Metrics): void {
  console.log(`test: ${formatScores(m)}`);
}
