/**
 * What `--json` prints: one document on stdout per command (progress and logs go to stderr).
 * These types are the contract; the README shows an example of each.
 * @module
 */
import type { Metrics } from '../train/metrics.js';

/** Scores of a split: the four metrics (fractions, 0–1) and the confusion matrix (rows true, columns predicted). */
export interface ScoresJson {
  labels: string[];
  accuracy: number;
  uar: number;
  macroF1: number;
  weightedF1: number;
  confusion: number[][];
}

/** `crab data check --json`. */
export interface DataCheckJson {
  dataset: string;
  labels: string[];
  /** The metric papers report for this corpus. */
  primaryMetric: string;
  /** Utterances per split and class (`counts.train.happy`). */
  counts: Record<string, Record<string, number>>;
  totals: { utterances: number; perClass: Record<string, number>; perSplit: Record<string, number> };
  /** Utterances whose audio file does not exist. */
  missing: Array<{ id: string; file: string; reason: string }>;
  /** Clips that exist but did not decode, with the decoder's reason (left out of `counts`). */
  undecodable: Array<{ id: string; file: string; reason: string }>;
  /** Whether every clip was decoded (false with --headers-only: only WAV headers were read). */
  decoded: boolean;
  emptyTranscripts: number;
  /** Durations in seconds of the decoded clips (with --headers-only: of WAV files; `unknown`: not measured). */
  seconds: { total: number; min: number; max: number; unknown: number };
  /** Counts per group and class where the corpus has a grouping (IEMOCAP: `groups.counts.Ses01.happy`). */
  groups?: { name: string; counts: Record<string, Record<string, number>> };
  /** Everything the loader skipped or found wrong, with the file (and line) and why. */
  skipped: Array<{ file: string; line?: number; reason: string }>;
}

/** `crab features --json`. */
export interface FeaturesJson {
  /** The cache folder (`plan.json` and one safetensors file per shard). */
  cache: string;
  shards: number;
  /** Shards computed by this call, already there, and still missing (to be made elsewhere). */
  computed: number[];
  alreadyDone: number[];
  missing: number[];
  /** Utterances in the corpus (all shards). */
  utterances: number;
  /** Utterances of the computed shards left out, with why (unreadable audio). */
  skipped: Array<{ id: string; reason: string }>;
}

/** `crab train --json`. */
export interface TrainJson {
  runDir: string;
  best: { metric: string; value: number; epoch: number } | null;
  /** The best checkpoint on the test split (absent when the corpus has none). */
  test?: ScoresJson;
  /** `--fold all`: each IEMOCAP fold's test WA and UA, and their mean. */
  folds?: Array<{ fold: number; wa: number; ua: number }>;
  average?: { wa: number; ua: number };
}

/** `crab eval --json`. */
export interface EvalJson {
  run: string;
  split: string;
  scores: ScoresJson;
  report: string;
}

/** `crab predict --json`. */
export interface PredictJson {
  file: string;
  label: string;
  probabilities: Record<string, number>;
}

/** `crab embed --json`. */
export interface EmbedJson {
  out: string;
  index: string;
  /** Each input file and the tensor names its layers were written under. */
  files: Array<{ input: string; name: string; tensors: string[]; frames: number }>;
  skipped: Array<{ file: string; reason: string }>;
}

/** Scores in the JSON shape. */
export function scoresJson(m: Metrics, labels: readonly string[]): ScoresJson {
  return { labels: [...labels], accuracy: m.accuracy, uar: m.uar, macroF1: m.macroF1, weightedF1: m.weightedF1, confusion: m.confusion };
}

/** Prints the one JSON document of a command. */
export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
