/**
 * The sharded feature cache of a real corpus: one folder per corpus and encoder set, holding
 * `plan.json` (what the cache is and how many shards it has) and one safetensors file per shard.
 * Utterances go to shard `sha256(id) mod N`, so any machine can compute any shard without talking
 * to the others (a Kubernetes Indexed Job, a SLURM array). A shard is written in parts of a few
 * hundred utterances (`<shard>.partial/part-NNNNN.safetensors`); a killed shard resumes after its
 * last part, and the finished shard file is byte-identical whether it was interrupted or not, and
 * whichever process made it. Every file is written atomically.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Dataset } from './corpora.js';
import { extractFeatures, saveFeatures, readFeatureFile, newThroughput, throughputLine, cacheKey, type FeatureItem, type FeatureSet, type ThroughputStats } from './features.js';
import { loadWavLM, loadRoberta } from '../model/pretrained.js';
import { readWavLMConfig, type WavLMModel, type WavLMConfig } from '../model/wavlm.js';
import type { RobertaModel } from '../model/roberta.js';
import { Progress } from '../util/progress.js';

/** Format tag of `plan.json`; a cache of another format is not read. */
export const CACHE_FORMAT = 'crab-features/3';
/**
 * Utterances per encoder batch while caching (parts are whole batches, so resuming cannot change
 * a batch): four, or one for WavLMs with a group norm over time in their conv encoder (the base
 * family), whose statistics padding would change (up to 1.3 on values of magnitude 3 in the test
 * model), as in Hugging Face's model without an attention mask.
 */
export function cacheBatch(wavlm: WavLMConfig): number {
  return wavlm.feat_extract_norm === 'group' ? 1 : 4;
}
/** Default utterances per resumable part. */
export const DEFAULT_PART_SIZE = 256;

/** A cache the caller must complete or fix first (exit status 2): it names the shards and the command. */
export class FeatureCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeatureCacheError';
  }
}

/** What the features of a corpus depend on; `crab train` and `crab features` with the same flags agree on it. */
export interface CacheOptions {
  wavlm: string;
  roberta: string;
  cacheDir: string;
  maxSeconds?: number;
  normalize?: boolean;
  /** Keep every hidden state (for the learned layer-weighted sum). */
  allLayers?: boolean;
  quiet?: boolean;
}

/** `plan.json`: the cache's identity and its shard count. */
export interface CachePlan {
  format: string;
  key: string;
  corpus: string;
  shards: number;
  utterances: number;
  /** Utterances per shard. */
  sizes: number[];
  settings: { wavlm: string; roberta: string; maxSeconds: number; normalize: boolean; allLayers: boolean; batch: number };
}

/** Shard of an utterance id among `n`: the first 32 bits of its SHA-256, mod n (stable across machines and runs). */
export function shardOf(id: string, n: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % n;
}

/** Parses `K/N` (0 ≤ K < N), or throws a message naming what is wrong. */
export function parseShard(text: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not K/N (shard K of N, counted from 0: 0/8 … 7/8)`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1) throw new Error(`"${text}": N must be at least 1`);
  if (k >= n) throw new Error(`"${text}": K must be below N (shards are 0 … ${n - 1})`);
  return { k, n };
}

/** The file name of shard k of n. */
export const shardName = (k: number, n: number): string => `shard-${String(k).padStart(4, '0')}-of-${String(n).padStart(4, '0')}`;

/** The cache folder of a corpus and encoder set, and the plan such a cache would have with `n` shards. */
export function cacheFor(ds: Dataset, o: CacheOptions, n = 1): { dir: string; plan: CachePlan } {
  // The splits are left out (features do not depend on them), so every IEMOCAP fold shares one
  // cache; the splits of the current protocol are applied when the cache is read.
  const ids = createHash('sha256').update(ds.utterances.map((u) => `${u.id}:${u.label}`).join('\n')).digest('hex');
  const corpus = ds.name.replace(/-fold\d+$/, '');
  const settings = { wavlm: o.wavlm, roberta: o.roberta, maxSeconds: o.maxSeconds ?? 12, normalize: !!o.normalize, allLayers: !!o.allLayers, batch: cacheBatch(readWavLMConfig(o.wavlm)) };
  const key = cacheKey([CACHE_FORMAT, corpus, ids, settings]);
  const sizes = new Array<number>(n).fill(0);
  for (const u of ds.utterances) sizes[shardOf(u.id, n)]!++;
  return { dir: join(o.cacheDir, `features-${corpus}-${key}`), plan: { format: CACHE_FORMAT, key, corpus, shards: n, utterances: ds.utterances.length, sizes, settings } };
}

/** The plan of a cache folder, or null when there is none yet. */
export function readPlan(dir: string): CachePlan | null {
  const p = join(dir, 'plan.json');
  if (!existsSync(p)) return null;
  let plan: CachePlan;
  try {
    plan = JSON.parse(readFileSync(p, 'utf8')) as CachePlan;
  } catch (e) {
    throw new FeatureCacheError(`${p}: not valid JSON (${(e as Error).message}); delete the folder to rebuild the cache`);
  }
  if (plan.format !== CACHE_FORMAT) throw new FeatureCacheError(`${p}: a cache of format ${plan.format}, this crab reads ${CACHE_FORMAT}; delete the folder to rebuild it`);
  return plan;
}

/**
 * Creates the cache folder's plan, or returns the one already there (several shard processes may
 * start at once: the first link wins and the others read it). A plan with another shard count is
 * an error: shards of different plans cannot be mixed.
 */
export function ensurePlan(dir: string, plan: CachePlan): CachePlan {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'plan.json');
  if (!existsSync(p)) {
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(plan, null, 2)}\n`);
    try {
      linkSync(tmp, p); // fails when another process created it first
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
  const have = readPlan(dir)!;
  if (have.key !== plan.key) throw new FeatureCacheError(`${p}: belongs to another corpus or encoder set (key ${have.key}, expected ${plan.key}); delete the folder`);
  if (have.shards !== plan.shards) {
    throw new FeatureCacheError(`${dir}: this cache is planned as ${have.shards} shard(s), not ${plan.shards}; use --shard K/${have.shards} (or --shards ${have.shards}), or delete the folder to re-plan it`);
  }
  return have;
}

/** Shards of the plan whose file is not there yet. */
export function missingShards(dir: string, plan: CachePlan): number[] {
  return Array.from({ length: plan.shards }, (_, k) => k).filter((k) => !existsSync(join(dir, `${shardName(k, plan.shards)}.safetensors`)));
}

/** The encoders the features come from, loaded once per process. */
export interface CacheEncoders {
  wavlm: WavLMModel;
  roberta: RobertaModel;
  encode(text: string): number[];
}

/** Loads the plan's encoders from their folders. */
export function loadCacheEncoders(o: CacheOptions): CacheEncoders {
  const wavlm = loadWavLM(o.wavlm);
  const { model: roberta, tokenizer } = loadRoberta(o.roberta);
  return { wavlm, roberta, encode: (t) => tokenizer.encode(t) };
}

/** What {@link extractShard} did. */
export interface ShardResult {
  shard: number;
  /** Utterances read from parts an earlier, interrupted run wrote. */
  resumed: number;
  items: number;
  skipped: Array<{ id: string; reason: string }>;
  /** The shard file was already complete. */
  alreadyDone: boolean;
}

/** Options of {@link extractShard}. */
export interface ShardOptions {
  /** Utterances per resumable part (rounded up to whole batches; default 256). */
  partSize?: number;
  quiet?: boolean;
  stats?: ThroughputStats;
  /** Called after each part is on disk: parts done, parts in the shard. */
  onPart?: (done: number, total: number) => void;
}

/**
 * Computes shard k of the plan into `<dir>/<shard>.safetensors`, resuming after the parts an
 * interrupted run left in `<shard>.partial/`. Batches are the shard's utterances in corpus order,
 * {@link cacheBatch} at a time, whatever the part size, so the shard's bytes do not depend on interruptions.
 */
export async function extractShard(dir: string, plan: CachePlan, ds: Dataset, k: number, enc: CacheEncoders, o: ShardOptions = {}): Promise<ShardResult> {
  const name = shardName(k, plan.shards);
  const final = join(dir, `${name}.safetensors`);
  if (existsSync(final)) return { shard: k, resumed: 0, items: 0, skipped: [], alreadyDone: true };
  const mine = ds.utterances.filter((u) => shardOf(u.id, plan.shards) === k);
  const batch = plan.settings.batch;
  const partSize = Math.max(1, Math.ceil((o.partSize ?? DEFAULT_PART_SIZE) / batch)) * batch;
  const partDir = join(dir, `${name}.partial`);
  mkdirSync(partDir, { recursive: true });
  // Parts on disk, in order, each naming the utterance range it covers.
  const parts: Array<{ file: string; from: number; to: number }> = [];
  for (const f of readdirSync(partDir).filter((f) => /^part-\d{5}\.safetensors$/.test(f)).sort()) {
    const meta = readFeatureFile(join(partDir, f)).metadata;
    const from = Number(meta.from);
    const to = Number(meta.to);
    if (meta.key !== plan.key || from !== (parts.at(-1)?.to ?? 0) || !(to > from) || to > mine.length || from % batch) break; // not a continuation: recompute from here
    parts.push({ file: join(partDir, f), from, to });
  }
  let at = parts.at(-1)?.to ?? 0;
  const resumed = at;
  const totalParts = parts.length + Math.ceil((mine.length - at) / partSize);
  if (!o.quiet && resumed) process.stderr.write(`features ${name}: resuming after ${resumed} of ${mine.length} utterances (${parts.length} part(s) on disk)\n`);
  const bar = o.quiet ? null : new Progress(`features ${name} (${plan.corpus})`, mine.length - resumed);
  while (at < mine.length) {
    const to = Math.min(mine.length, at + partSize);
    const skipped: Array<{ id: string; reason: string }> = [];
    const from = at;
    const set = await extractFeatures(mine.slice(from, to), enc.wavlm, enc.roberta, { encode: enc.encode }, {
      batchSize: batch, maxSeconds: plan.settings.maxSeconds, normalize: plan.settings.normalize, allLayers: plan.settings.allLayers,
      onSkip: (u, reason) => skipped.push({ id: u.id, reason }), onProgress: (d) => bar?.update(from - resumed + d), stats: o.stats,
    });
    const file = join(partDir, `part-${String(parts.length).padStart(5, '0')}.safetensors`);
    saveFeatures(file, set, { key: plan.key, from: String(from), to: String(to), skipped: JSON.stringify(skipped) });
    parts.push({ file, from, to });
    at = to;
    o.onPart?.(parts.length, totalParts);
  }
  // Join the parts into the shard file, then drop them.
  const sets = parts.map((p) => readFeatureFile(p.file));
  const items = sets.flatMap((s) => s.set.items);
  const skipped = sets.flatMap((s) => JSON.parse(s.metadata.skipped ?? '[]') as Array<{ id: string; reason: string }>);
  const dims = sets[0]?.set ?? (await emptyDims(enc, plan));
  saveFeatures(final, { ...dims, items }, { key: plan.key, shard: `${k}/${plan.shards}`, skipped: JSON.stringify(skipped) });
  rmSync(partDir, { recursive: true, force: true });
  return { shard: k, resumed, items: items.length, skipped, alreadyDone: false };
}

/** The feature widths of an empty shard (no parts: a shard with no utterances). */
async function emptyDims(enc: CacheEncoders, plan: CachePlan): Promise<FeatureSet> {
  return extractFeatures([], enc.wavlm, enc.roberta, { encode: enc.encode }, { allLayers: plan.settings.allLayers });
}

/**
 * Reads a complete cache: every shard's items, in the corpus' order, with the splits of the
 * current protocol; the utterances the shards skipped (unreadable audio), with their reasons.
 */
export function readCache(dir: string, plan: CachePlan, ds: Dataset): { features: FeatureSet; skipped: Array<{ id: string; reason: string }> } {
  const byId = new Map<string, FeatureItem>();
  const skipped: Array<{ id: string; reason: string }> = [];
  let dims: FeatureSet | null = null;
  for (let k = 0; k < plan.shards; k++) {
    const { set, metadata } = readFeatureFile(join(dir, `${shardName(k, plan.shards)}.safetensors`));
    if (metadata.key !== plan.key) throw new FeatureCacheError(`${join(dir, shardName(k, plan.shards))}.safetensors: from another cache (key ${metadata.key}, expected ${plan.key}); delete it and make it again`);
    dims ??= set;
    for (const it of set.items) byId.set(it.id, it);
    skipped.push(...(JSON.parse(metadata.skipped ?? '[]') as Array<{ id: string; reason: string }>));
  }
  const items: FeatureItem[] = [];
  for (const u of ds.utterances) {
    const it = byId.get(u.id);
    if (it) items.push({ ...it, split: u.split });
  }
  const order = new Map(ds.utterances.map((u, i) => [u.id, i]));
  skipped.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { features: { items, speechDim: dims!.speechDim, textDim: dims!.textDim, speechLayers: dims!.speechLayers, textLayers: dims!.textLayers }, skipped };
}

/**
 * Features of a corpus for training: read from a complete cache, or computed here as a one-shard
 * cache (resumable: rerun after an interruption). A cache planned with several shards that lacks
 * some is an error naming them and the `crab features` call that makes them.
 */
export async function corpusFeatures(ds: Dataset, o: CacheOptions): Promise<{ features: FeatureSet; skipped: Array<{ id: string; reason: string }>; dir: string }> {
  const { dir, plan } = cacheFor(ds, o, 1);
  let have = readPlan(dir);
  if (have && have.key !== plan.key) throw new FeatureCacheError(`${dir}/plan.json: belongs to another corpus or encoder set; delete the folder`);
  if (have && have.shards > 1) {
    const missing = missingShards(dir, have);
    if (missing.length) {
      throw new FeatureCacheError(`feature cache ${dir} is planned as ${have.shards} shards and lacks ${missing.length}: ${missing.map((k) => `${k}/${have!.shards}`).join(', ')}. Make them with \`crab features --shard K/${have.shards}\` and the same --dataset, --data-dir, --wavlm, --roberta, --max-seconds and --normalize as here (or delete the folder to compute it all here)`);
    }
  }
  if (!have || missingShards(dir, have).length) {
    have = ensurePlan(dir, plan);
    const stats = newThroughput();
    await extractShard(dir, have, ds, 0, loadCacheEncoders(o), { quiet: o.quiet, stats });
    if (!o.quiet) process.stderr.write(`${throughputLine(`features (${ds.name})`, stats)}\n`);
  }
  return { ...readCache(dir, have, ds), dir };
}
