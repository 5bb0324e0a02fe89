/**
 * `crab bench`: the benchmark suites, run from the bundled `dist/bench.js`.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Command } from './common.js';

/** `crab bench`. */
export const benchCommand: Command = {
  summary: 'run a benchmark suite (kernels, fused, roberta, wavlm)',
  device: false,
  help: `crab bench <suite> [--quick] [--no-peers]
Runs a benchmark suite (kernels, fused, roberta, wavlm); see \`npm run bench -- --help\`.`,
  async run(argv) {
    const here = dirname(fileURLToPath(import.meta.url));
    const r = spawnSync(process.execPath, [join(here, 'bench.js'), ...argv], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  },
};
