/**
 * `crab bench`: the benchmark suites, run from the bundled `dist/bench.js` (which takes its own
 * options; `npm run bench -- --help`).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { FlagTable } from '../util/flags.js';
import { usage, type Command } from './common.js';

const SUITES = ['kernels', 'fused', 'roberta', 'wavlm', 'audio'];

const FLAGS = {
  quick: { type: 'boolean', help: 'one timed run per workload instead of the median of 3' },
  'no-peers': { type: 'boolean', help: 'skip TensorFlow.js and jax-js' },
  json: { type: 'boolean', help: 'print the results as one JSON document on stdout (tables go to stderr)' },
  out: { type: 'string', arg: 'FILE', help: 'where to write the results (default bench/results/<suite>-<date>.json, untracked)' },
} satisfies FlagTable;

/** `crab bench`. */
export const benchCommand: Command = {
  summary: 'run a benchmark suite (kernels, fused, roberta, wavlm, audio)',
  usage: `crab bench ${SUITES.join('|')} [options]`,
  description: 'Runs a benchmark suite; each prints a table and writes its results as JSON.',
  flags: FLAGS,
  async run(argv) {
    if (!SUITES.includes(argv[0] ?? '')) usage(`bench: name a suite: ${SUITES.join(', ')}`);
    const here = dirname(fileURLToPath(import.meta.url));
    const r = spawnSync(process.execPath, [join(here, 'bench.js'), ...argv], { stdio: 'inherit' });
    if (r.signal) throw new Error(`bench: the suite was stopped by ${r.signal}`);
    process.exitCode = r.status ?? 1;
  },
};
