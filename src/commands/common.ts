/**
 * What every command shares: the command shape the dispatcher runs, usage errors (exit 2), number
 * parsing with the flag's name in the error, and Hugging Face model resolution with a download
 * bar. Commands import this, never each other.
 * @module
 */
import { ensureModel } from '../model/resolve.js';
import { Progress } from '../util/progress.js';
import type { Metrics } from '../train/metrics.js';

/** One `crab` command. */
export interface Command {
  /** One line for `crab --help`. */
  summary: string;
  /** The text of `crab <command> --help`. */
  help: string;
  /** Whether the command needs the GPU device (opened by the dispatcher, after flags parse). */
  device: boolean;
  run(argv: string[]): Promise<void>;
}

/** A mistake in how the command was called: printed as one line, exit status 2. */
export class UsageError extends Error {}

/** Stops with a usage error. */
export function usage(msg: string): never {
  throw new UsageError(msg);
}

/** A positive integer flag value, or a usage error naming the flag. */
export function int(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usage(`${name} must be a positive integer, not "${v}"`);
  return n;
}

/** A finite number flag value, or a usage error naming the flag. */
export function num(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) usage(`${name} must be a number, not "${v}"`);
  return n;
}

/** A model folder for a path or Hugging Face id, downloading into the HF cache when needed. */
export async function fetchModel(nameOrPath: string, needs: string[]): Promise<string> {
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

/** The one-line summary of test scores. */
export function formatScores(m: Metrics): string {
  return `WA ${(100 * m.accuracy).toFixed(1)}  UA ${(100 * m.uar).toFixed(1)}  macro-F1 ${(100 * m.macroF1).toFixed(1)}  weighted-F1 ${(100 * m.weightedF1).toFixed(1)}`;
}
