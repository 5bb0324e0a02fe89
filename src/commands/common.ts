/**
 * What every command shares: the command shape the dispatcher runs, usage errors (exit 2), number
 * parsing with the flag's name in the error, and Hugging Face model resolution with a download
 * bar. Commands import this, never each other.
 * @module
 */
import { ensureModel } from '../model/resolve.js';
import { Progress } from '../util/progress.js';
import type { Metrics } from '../train/metrics.js';
import { UsageError, type FlagTable } from '../util/flags.js';

export { UsageError };

/**
 * One `crab` command. Its `--help` is generated from `usage`, `description` and its flag table;
 * `run` validates its flags and inputs first and opens the GPU device (`initDevice`) only when it
 * needs it; the dispatcher releases the device afterwards.
 */
export interface Command {
  /** One line for `crab --help`. */
  summary: string;
  /** The usage line of `crab <command> --help`. */
  usage: string;
  /** What the command does, for its `--help`. */
  description: string;
  /** Its options, declared once. */
  flags: FlagTable;
  run(argv: string[]): Promise<void>;
}

/** Stops with a usage error. */
export function usage(msg: string): never {
  throw new UsageError(msg);
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
