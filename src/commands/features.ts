/**
 * `crab features`: the feature cache `crab train` reads, computed here — all of it, or one shard
 * of N so that N machines (a Kubernetes Indexed Job, a SLURM array; see `deploy/`) share a corpus.
 * @module
 */
import { initDevice } from '../tensor/device.js';
import { loadDataset, DATASETS, type Dataset, type DatasetName } from '../data/corpora.js';
import { cacheFor, ensurePlan, extractShard, loadCacheEncoders, missingShards, parseShard, readPlan, DEFAULT_PART_SIZE, type ShardResult } from '../data/feature_cache.js';
import { newThroughput, throughputLine } from '../data/features.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { usage, fetchModel, type Command } from './common.js';
import { printJson, type FeaturesJson } from './json.js';

const FLAGS = {
  dataset: { type: 'enum', values: DATASETS.filter((d) => d !== 'synthetic'), required: true, help: 'the corpus (the synthetic corpus caches its own features in crab train)' },
  'data-dir': { type: 'string', arg: 'DIR|FILE', required: true, help: 'the corpus folder (manifest: the CSV/JSONL file)' },
  labels: { type: 'string', arg: 'A,B,…', help: 'manifest: the declared label set, in order' },
  'test-set': { type: 'string', arg: 'TestN', help: 'msp-podcast: the test set (as given to crab train)' },
  wavlm: { type: 'string', arg: 'DIR|org/name', required: true, help: 'WavLM checkpoint (Hugging Face folder or cached id)' },
  roberta: { type: 'string', arg: 'DIR|org/name', required: true, help: 'RoBERTa checkpoint with its tokenizer' },
  'max-seconds': { type: 'number', min: 0.025, arg: 'S', default: 12, help: 'truncate audio' },
  normalize: { type: 'boolean', help: 'z-normalize each waveform (WavLM-large)' },
  'all-layers': { type: 'boolean', help: 'keep every hidden state (what crab train --layer-weighted-sum reads)' },
  shard: { type: 'string', arg: 'K/N', help: 'compute only shard K of N (0 ≤ K < N); other machines compute the others' },
  shards: { type: 'int', arg: 'N', help: 'without --shard: the shard count of a new cache (default 1), all computed here' },
  'part-size': { type: 'int', arg: 'U', default: DEFAULT_PART_SIZE, help: 'utterances per resumable part (a killed run redoes at most one part)' },
  'cache-dir': { type: 'string', arg: 'DIR', default: '.cache/crab-ser', help: 'feature cache (as given to crab train)' },
  json: { type: 'boolean', help: 'print one JSON document (FeaturesJson) on stdout' },
} satisfies FlagTable;

/** `crab features`. */
export const featuresCommand: Command = {
  summary: 'compute the feature cache of a corpus, whole or one shard of N',
  usage: 'crab features --dataset NAME --data-dir DIR --wavlm M --roberta M [--shard K/N] [options]',
  description: `Runs the frozen encoders over a corpus into the cache \`crab train\` reads (same --dataset,
--data-dir, --wavlm, --roberta, --max-seconds, --normalize and --cache-dir). Utterances go to
shard sha256(id) mod N: with --shard K/N this process computes shard K only, so N machines can
share a corpus (deploy/ has a Kubernetes Indexed Job and a SLURM array). Without --shard every
shard of the cache is computed here. Each shard is written in parts; rerunning skips finished
shards and resumes a partial one after its last part. The cache's plan.json fixes N: shards of
one cache all use the same N. Unreadable audio is listed and left out.`,
  flags: FLAGS,
  async run(argv) {
    const { values } = parseFlags('features', FLAGS, argv);
    let shard: { k: number; n: number } | null = null;
    if (values.shard !== undefined) {
      if (values.shards !== undefined) usage('features: give --shard K/N or --shards N, not both');
      try {
        shard = parseShard(values.shard);
      } catch (e) {
        usage(`features: --shard: ${(e as Error).message}`);
      }
    }
    let ds: Dataset;
    try {
      ds = loadDataset(values.dataset as DatasetName, values['data-dir']!, { labels: values.labels?.split(',').map((l) => l.trim()), testSet: values['test-set'] });
    } catch (e) {
      usage(`features: ${(e as Error).message}`);
    }
    if (ds.issues.length) console.error(`${ds.name}: ${ds.issues.length} issue(s); run \`crab data check\` for the list`);
    const o = {
      wavlm: await fetchModel(values.wavlm!, []), roberta: await fetchModel(values.roberta!, ['vocab.json', 'merges.txt']),
      cacheDir: values['cache-dir']!, maxSeconds: values['max-seconds'], normalize: values.normalize, allLayers: values['all-layers'], quiet: values.json,
    };
    // Without --shard or --shards, an existing cache keeps its shard count.
    const n = shard?.n ?? values.shards ?? readPlan(cacheFor(ds, o).dir)?.shards ?? 1;
    const { dir, plan: wanted } = cacheFor(ds, o, n);
    const plan = ensurePlan(dir, wanted); // checked before the GPU: a different N stops here
    const todo = shard ? [shard.k] : Array.from({ length: plan.shards }, (_, k) => k);
    const pending = todo.filter((k) => missingShards(dir, plan).includes(k));
    const results: ShardResult[] = [];
    const stats = newThroughput();
    if (pending.length) {
      await initDevice();
      const enc = loadCacheEncoders(o);
      for (const k of pending) {
        results.push(await extractShard(dir, plan, ds, k, enc, { partSize: values['part-size'], quiet: values.json, stats }));
        if (!values.json) console.error(`features: shard ${k}/${plan.shards} done`);
      }
      console.error(throughputLine(`features (${ds.name})`, stats));
    }
    const skipped = results.flatMap((r) => r.skipped);
    for (const s of skipped.slice(0, 10)) console.error(`skipped ${s.id}: ${s.reason}`);
    if (skipped.length > 10) console.error(`… and ${skipped.length - 10} more`);
    const missing = missingShards(dir, plan);
    if (values.json) {
      printJson({
        cache: dir, shards: plan.shards, computed: results.map((r) => r.shard), alreadyDone: todo.filter((k) => !pending.includes(k)), missing,
        utterances: plan.utterances, skipped,
      } satisfies FeaturesJson);
      return;
    }
    const done = todo.filter((k) => !pending.includes(k));
    if (done.length) console.log(`already done: shard(s) ${done.map((k) => `${k}/${plan.shards}`).join(', ')}`);
    console.log(missing.length
      ? `cache ${dir}: ${plan.shards - missing.length} of ${plan.shards} shards done; still missing ${missing.map((k) => `${k}/${plan.shards}`).join(', ')}`
      : `cache ${dir}: complete (${plan.shards} shard(s), ${plan.utterances} utterances); crab train with the same flags reads it`);
  },
};
