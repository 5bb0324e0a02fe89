#!/usr/bin/env node
/**
 * The `crab` command line. Every command has `--help`.
 * @module
 */
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { initDevice, releaseDevice, NoAdapterError } from './tensor/device.js';
import './kernels/index.js';
import { runDemo, syntheticFeatures, syntheticEncoders } from './train/demo.js';
import { SYNTHETIC_LABELS, type Utterance } from './train/synthetic.js';
import { trainEndToEnd, encodersFor, loadRun, evaluateRun, type Encoders } from './train/finetune.js';
import type { Metrics } from './train/metrics.js';
import { train, evaluate, loadBest, InterruptedError, TRAIN_DEFAULTS, type TrainConfig, type EncoderSpec } from './train/trainer.js';
import { predictOne } from './train/predict.js';
import { metricsTable, confusionChart, writeReport } from './train/report.js';
import { audioFiles, loadWavLM, embedFiles } from './train/embed.js';
import { loadDataset, checkDataset, formatDataReport } from './train/datasets.js';
import { corpusFeatures, crossValidateIemocap } from './train/corpus.js';
import { ensureModel } from './model/resolve.js';
import { Progress } from './train/progress.js';

const HELP = `crab — Crab speech-emotion recognition on a WebGPU engine

usage: crab <command> [options]

commands:
  demo     train Crab and its ablations on the embedded synthetic corpus and write a report
  train    train Crab on a corpus (synthetic, iemocap, meld, msp-podcast, manifest)
  data     check a corpus: counts per class and split, missing files, durations
  eval     evaluate a run's best checkpoint on its test split
  predict  the emotion of one audio file (and its transcript) with a trained run
  embed    WavLM hidden states of audio files, saved as safetensors
  bench    run a benchmark suite (kernels, fused, roberta, wavlm)

Run \`crab <command> --help\` for a command's options.`;

const COMMANDS: Record<string, { help: string; run: (argv: string[]) => Promise<void> }> = {
  demo: {
    help: `crab demo [options]
Generates the synthetic bimodal corpus, caches tiny WavLM/RoBERTa features, trains Crab (MLCS +
weighted CE) and its ablations (no MLCS, unweighted CE, audio only, text only) over several seeds,
and writes <out>/report.html and <out>/results.json.
  --condition natural|acted   corpus condition (default natural: imbalanced, weak cues)
  --size N                    utterances (default 400)
  --epochs N                  epochs per run (default 8)
  --seeds N                   seeds per variant (default 3)
  --out DIR                   output folder (default runs/demo)
  --cache-dir DIR             feature cache (default .cache/crab-ser)
  --quiet                     no progress output`,
    async run(argv) {
      const { values } = parseArgs({ args: argv, options: {
        condition: { type: 'string', default: 'natural' }, size: { type: 'string', default: '400' }, epochs: { type: 'string', default: '8' },
        seeds: { type: 'string', default: '3' }, out: { type: 'string', default: 'runs/demo' }, 'cache-dir': { type: 'string', default: '.cache/crab-ser' }, quiet: { type: 'boolean', default: false },
      } });
      const condition = values.condition === 'acted' ? 'acted' : values.condition === 'natural' ? 'natural' : usage(`--condition must be natural or acted, not "${values.condition}"`);
      await runDemo({ condition, size: int('--size', values.size), epochs: int('--epochs', values.epochs), seeds: int('--seeds', values.seeds), out: values.out, cacheDir: values['cache-dir'], quiet: values.quiet });
    },
  },
  train: {
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
  },
  data: {
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
  },
  eval: {
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
      console.log(`WA ${(100 * m.accuracy).toFixed(1)}  UA ${(100 * m.uar).toFixed(1)}  macro-F1 ${(100 * m.macroF1).toFixed(1)}  weighted-F1 ${(100 * m.weightedF1).toFixed(1)}`);
      console.log(`confusion (rows true, columns predicted; ${state.labels.join(', ')}):`);
      for (const r of m.confusion) console.log(`  ${r.map((v) => String(v).padStart(4)).join('')}`);
      writeReport(join(values.run, `eval-${values.split}.html`), `crab eval — ${values.run} (${values.split})`, [
        { heading: 'Metrics', html: metricsTable([{ name: values.split, m }]) }, { heading: 'Confusion matrix', html: confusionChart(m.confusion, state.labels) },
      ]);
    },
  },
  predict: {
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
  },
  embed: {
    help: `crab embed --model DIR|org/name [options] <audio files or folders...>
Runs WavLM over each file alone (16 kHz mono after resampling; WAV read directly, other formats
through ffmpeg) and writes the chosen layers' hidden states to one safetensors file
(tensors "<file stem>.layer<k>", [frames, hidden]). Unreadable files are listed and skipped.
  --model DIR|org/name   a Hugging Face WavLM folder, or an id in the Hugging Face cache
  --layers 0,6,12        hidden states to keep (0 = input of the first layer; default: last)
  --out FILE             (default embeddings.safetensors)
  --max-seconds S        truncate longer files
  --normalize            zero-mean, unit-variance per file (what WavLM-large expects)`,
    async run(argv) {
      const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
        model: { type: 'string' }, layers: { type: 'string' }, out: { type: 'string', default: 'embeddings.safetensors' },
        'max-seconds': { type: 'string' }, normalize: { type: 'boolean', default: false },
      } });
      if (!values.model) usage('--model is required');
      if (!positionals.length) usage('give audio files or folders');
      const files = audioFiles(positionals);
      if (!files.length) usage(`no audio files (${[...'wav flac mp3 ogg m4a mp4 opus'.split(' ')].join(', ')}) under ${positionals.join(', ')}`);
      const model = loadWavLM(await fetchModel(values.model, []));
      const layers = values.layers?.split(',').map((x) => {
        const n = Number(x);
        if (!Number.isInteger(n) || n < 0) usage(`--layers takes non-negative integers, not "${x}"`);
        return n;
      });
      const r = await embedFiles(model, files, values.out, { layers, maxSeconds: values['max-seconds'] ? num('--max-seconds', values['max-seconds']) : undefined, normalize: values.normalize });
      console.log(`wrote ${r.written} file(s) to ${values.out}`);
      for (const s of r.skipped) console.error(`skipped ${s.reason}`);
    },
  },
  bench: {
    help: `crab bench <suite> [--quick] [--no-peers]
Runs a benchmark suite (kernels, fused, roberta, wavlm); see \`npm run bench -- --help\`.`,
    async run(argv) {
      const here = dirname(fileURLToPath(import.meta.url));
      const r = spawnSync(process.execPath, [join(here, 'bench.js'), ...argv], { stdio: 'inherit' });
      process.exitCode = r.status ?? 1;
    },
  },
};

/** A model folder for a path or Hugging Face id, downloading into the HF cache when needed. */
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
  console.log(`test: WA ${(100 * m.accuracy).toFixed(1)}  UA ${(100 * m.uar).toFixed(1)}  macro-F1 ${(100 * m.macroF1).toFixed(1)}  weighted-F1 ${(100 * m.weightedF1).toFixed(1)}`);
}

async function fetchModel(nameOrPath: string, needs: string[]): Promise<string> {
  const bars = new Map<string, Progress>();
  return ensureModel(nameOrPath, needs, {
    onProgress: (file, done, total) => {
      if (!total) return;
      let bar = bars.get(file);
      if (!bar) bars.set(file, (bar = new Progress(`download ${file}`, total)));
      bar.update(done);
    },
  });
}

class UsageError extends Error {}
function usage(msg: string): never {
  throw new UsageError(msg);
}
function int(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usage(`${name} must be a positive integer, not "${v}"`);
  return n;
}
function num(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) usage(`${name} must be a number, not "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return;
  }
  const c = COMMANDS[cmd];
  if (!c) usage(`unknown command "${cmd}"\n\n${HELP}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(c.help);
    return;
  }
  if (cmd === 'bench') return c.run(rest);
  await initDevice();
  try {
    await c.run(rest);
  } finally {
    releaseDevice();
  }
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) console.error(`crab: ${e.message}`);
  else if (e instanceof NoAdapterError || e instanceof InterruptedError) console.error(e.message);
  else if (e instanceof Error && /ERR_PARSE_ARGS/.test((e as { code?: string }).code ?? '')) console.error(`crab: ${e.message} (see --help)`);
  else console.error(e instanceof Error ? (process.env.CRAB_DEBUG ? e.stack : `crab: ${e.message}`) : e);
  process.exitCode = e instanceof InterruptedError ? 130 : 1;
});
