/**
 * Encoder features: hidden states of the frozen encoders computed once, stored as safetensors and
 * reused across epochs and runs — the only practical way to train on a CPU adapter. The synthetic
 * corpus' cache is one file; real corpora use the sharded cache of `feature_cache.ts`.
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { noGrad, scope } from '../tensor/tensor.js';
import { encoderStates } from '../model/crab_encoders.js';
import type { WavLMModel } from '../model/wavlm.js';
import type { RobertaModel } from '../model/roberta.js';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.js';
import { tokenize, type TextEncoder_ } from './tokens.js';
import { featureSetFrom, type FeatureItem, type FeatureDims, type FeatureSet } from './feature_format.js';
export { featureSetFrom } from './feature_format.js';
export { tokenize, type TextEncoder_ } from './tokens.js';
import type { Utterance } from './utterance.js';
import type { WordVocab, SyntheticOptions } from './synthetic.js';
import { syntheticEncoders, tinyWavLMConfig, SYNTH_SEED, ENCODER_SEED } from './encoders.js';
import { Progress as ProgressBar } from '../util/progress.js';
import { loadForModel } from '../audio/audio.js';

export type { FeatureItem, FeatureDims, FeatureSet } from './feature_format.js';


/** Progress callback: done, total. */
export type Progress = (done: number, total: number) => void;


/** Options of {@link extractFeatures}. */
export interface ExtractOptions {
  batchSize?: number;
  onProgress?: Progress;
  /** Audio files: truncate to this many seconds and z-normalize per utterance. */
  maxSeconds?: number;
  normalize?: boolean;
  /** Text: at most this many tokens (default 128, as the authors). */
  maxTokens?: number;
  /** Called for each utterance whose audio cannot be read; it is then skipped. */
  onSkip?: (u: Utterance, reason: string) => void;
  /** Keep every hidden state (for the learned layer-weighted sum), not only the last. */
  allLayers?: boolean;
  /** Filled with where the time went (see {@link throughputLine}). */
  stats?: ThroughputStats;
}

/** Runs the frozen encoders over the corpus in batches. */
/** Where the time of an extraction went: audio seconds read, decode + resample time, encoder time. */
export interface ThroughputStats {
  audioSeconds: number;
  decodeMs: number;
  encodeMs: number;
}

/** A new, empty {@link ThroughputStats}. */
export const newThroughput = (): ThroughputStats => ({ audioSeconds: 0, decodeMs: 0, encodeMs: 0 });

/** One line: audio seconds per second, overall and split into decode + resample and encoders. */
export function throughputLine(what: string, t: ThroughputStats): string {
  const rate = (ms: number): string => (ms > 0 ? `${(t.audioSeconds / (ms / 1000)).toFixed(1)}× real time` : '—');
  return `${what}: ${t.audioSeconds.toFixed(1)} s of audio in ${((t.decodeMs + t.encodeMs) / 1000).toFixed(1)} s (${rate(t.decodeMs + t.encodeMs)}): decode + resample ${rate(t.decodeMs)}, encoders ${rate(t.encodeMs)}`;
}

export async function extractFeatures(all: Utterance[], wavlm: WavLMModel, roberta: RobertaModel, vocab: WordVocab | TextEncoder_, o: ExtractOptions = {}): Promise<FeatureSet> {
  const bs = o.batchSize ?? 8;
  const items: FeatureItem[] = [];
  wavlm.eval();
  roberta.eval();
  const encode = (t: string): number[] => tokenize(vocab, t, o.maxTokens);
  for (let i = 0; i < all.length; i += bs) {
    const batch: Utterance[] = [];
    for (const u of all.slice(i, i + bs)) {
      if (u.audio) {
        batch.push(u);
        if (o.stats) o.stats.audioSeconds += u.audio.length / 16000;
        continue;
      }
      try {
        const t0 = performance.now();
        const audio = await loadForModel(u.audioPath ?? '(no path)', { maxSeconds: o.maxSeconds ?? 12, normalize: o.normalize });
        if (o.stats) {
          o.stats.decodeMs += performance.now() - t0;
          o.stats.audioSeconds += audio.length / 16000;
        }
        if (audio.length < 400) throw new Error(`${u.audioPath}: shorter than one WavLM frame`);
        batch.push({ ...u, audio });
      } catch (e) {
        o.onSkip?.(u, (e as Error).message);
      }
    }
    if (!batch.length) {
      o.onProgress?.(Math.min(i + bs, all.length), all.length);
      continue;
    }
    const t1 = performance.now();
    await scope(async () => {
      const ids = batch.map((u) => encode(u.text));
      const x = noGrad(() => encoderStates(wavlm, roberta, batch.map((u, b) => ({ audio: u.audio!, ids: ids[b]! })), !!o.allLayers));
      const [spA, txA] = [(await x.speech.toArray()) as Float32Array, (await x.text.toArray()) as Float32Array];
      // Per item: its valid steps × (layers · width), contiguous in the padded batch.
      const rowS = x.speech.size / (batch.length * x.speech.shape[1]!);
      const rowT = x.text.size / (batch.length * x.text.shape[1]!);
      const Ts = x.speech.shape[1]!;
      const Tt = x.text.shape[1]!;
      batch.forEach((u, b) => {
        const sl = x.speechLengths![b]!;
        const tl = x.textLengths![b]!;
        items.push({
          id: u.id, label: u.label, split: u.split, speaker: u.speaker,
          speech: spA.slice(b * Ts * rowS, (b * Ts + sl) * rowS), speechLen: sl,
          text: txA.slice(b * Tt * rowT, (b * Tt + tl) * rowT), textLen: tl,
        });
      });
    });
    if (o.stats) o.stats.encodeMs += performance.now() - t1;
    o.onProgress?.(Math.min(i + bs, all.length), all.length);
  }
  return { items, ...encoderDims(wavlm, roberta, !!o.allLayers) };
}


/** The widths and layer counts the head sees from these encoders (`allLayers`: every hidden state). */
export function encoderDims(wavlm: WavLMModel, roberta: RobertaModel, allLayers: boolean): FeatureDims {
  const layers = (n: number): number => (allLayers ? n + 1 : 1);
  return {
    speechDim: wavlm.config.hidden_size, textDim: roberta.config.hidden_size,
    speechLayers: layers(wavlm.config.num_hidden_layers), textLayers: layers(roberta.config.num_hidden_layers),
  };
}

/** A stable cache key from everything that determines the features. */
export function cacheKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Writes a feature set (atomically), with any extra string metadata. */
export function saveFeatures(path: string, set: FeatureSet, metadata: Record<string, string> = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const sp = new Float32Array(set.items.reduce((s, it) => s + it.speech.length, 0));
  const tx = new Float32Array(set.items.reduce((s, it) => s + it.text.length, 0));
  let a = 0;
  let b = 0;
  for (const it of set.items) {
    sp.set(it.speech, a);
    a += it.speech.length;
    tx.set(it.text, b);
    b += it.text.length;
  }
  const ints = (f: (it: FeatureItem) => number): Int32Array => Int32Array.from(set.items, f);
  const Ls = set.speechLayers ?? 1;
  const Lt = set.textLayers ?? 1;
  writeSafetensors(path, {
    speech: { dtype: 'F32', shape: [sp.length / (Ls * set.speechDim), Ls, set.speechDim], data: sp },
    text: { dtype: 'F32', shape: [tx.length / (Lt * set.textDim), Lt, set.textDim], data: tx },
    speech_len: { dtype: 'I64', shape: [set.items.length], data: ints((it) => it.speechLen) },
    text_len: { dtype: 'I64', shape: [set.items.length], data: ints((it) => it.textLen) },
    label: { dtype: 'I64', shape: [set.items.length], data: ints((it) => it.label) },
  }, { ...metadata, items: JSON.stringify(set.items.map((it) => [it.id, it.split, it.speaker])) });
}

/** Reads a feature set written by {@link saveFeatures}, or null when absent. */
export function loadFeatures(path: string): FeatureSet | null {
  return existsSync(path) ? readFeatureFile(path).set : null;
}

/** Reads a feature file written by {@link saveFeatures}: the set and the file's metadata. */
export function readFeatureFile(path: string): { set: FeatureSet; metadata: Record<string, string> } {
  return featureSetFrom(SafetensorsFile.open(path));
}

/** Where the synthetic corpus's cached features are (a key from everything they depend on). */
export function featuresPath(o: { condition: SyntheticOptions['condition']; size: number; cacheDir: string; allLayers?: boolean }): string {
  const spec = { corpus: 'synthetic-v1', condition: o.condition, size: o.size, seed: SYNTH_SEED, wavlm: tinyWavLMConfig(), roberta: 'tiny-v1', encoderSeed: ENCODER_SEED, ...(o.allLayers ? { allLayers: true } : {}) };
  return join(o.cacheDir, `features-${cacheKey([spec])}.safetensors`);
}

/** Synthetic corpus → cached features (computed once per corpus and encoder set). */
export async function syntheticFeatures(o: { condition: SyntheticOptions['condition']; size: number; cacheDir: string; quiet?: boolean; allLayers?: boolean }): Promise<FeatureSet> {
  const path = featuresPath(o);
  const cached = loadFeatures(path);
  if (cached) {
    if (!o.quiet) process.stderr.write(`features: using the cache ${path}\n`);
    return cached;
  }
  const { utts, vocab, wavlm, roberta } = syntheticEncoders(o.condition, o.size);
  const bar = o.quiet ? null : new ProgressBar('features (tiny WavLM + RoBERTa)', utts.length);
  const stats = newThroughput();
  const set = await extractFeatures(utts, wavlm, roberta, vocab, { batchSize: 16, onProgress: (d) => bar?.update(d), allLayers: o.allLayers, stats });
  if (!o.quiet) process.stderr.write(`${throughputLine('features', stats)}\n`);
  saveFeatures(path, set);
  return set;
}
